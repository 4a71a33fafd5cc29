// Placeholder entry point; the CLI (render, run, simulate) lands with its issues.
process.stderr.write("doltdb-operator: no commands yet\n")
process.exitCode = 2
