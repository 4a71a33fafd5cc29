/** Part 1 of the failover property (see failoverProperty.ts). */
import { failoverProperty } from "./failoverProperty.ts"

failoverProperty(1)
