{{/* The chart's name, or nameOverride. */}}
{{- define "doltdb-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The fully qualified app name: fullnameOverride, else <release>-<name> (the release name alone if it contains the name). */}}
{{- define "doltdb-operator.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "doltdb-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "doltdb-operator.labels" -}}
helm.sh/chart: {{ include "doltdb-operator.chart" . }}
{{ include "doltdb-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: doltdb-operator
{{- end }}

{{/* The Deployment's selector: the reference chart's, so an upgrade from it keeps the Deployment. */}}
{{- define "doltdb-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "doltdb-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "doltdb-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "doltdb-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "doltdb-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion (toString .Values.image.tag)) }}
{{- end }}

{{- define "doltdb-operator.leaderElectionNamespace" -}}
{{- default .Release.Namespace .Values.leaderElection.namespace }}
{{- end }}

{{/* The operator's rules, generated from what its controllers read and write (files/operator-rules.yaml). */}}
{{- define "doltdb-operator.rules" -}}
{{- toYaml (fromYamlArray (.Files.Get "files/operator-rules.yaml")) }}
{{- end }}

{{/* The role the operator's bindings refer to: the chart's own, or existingClusterRole when installClusterRole is false. */}}
{{- define "doltdb-operator.roleRef" -}}
apiGroup: rbac.authorization.k8s.io
{{- if not .Values.installClusterRole }}
kind: ClusterRole
name: {{ .Values.existingClusterRole }}
{{- else if .Values.watchNamespaces }}
kind: Role
name: {{ include "doltdb-operator.fullname" . }}
{{- else }}
kind: ClusterRole
name: {{ include "doltdb-operator.fullname" . }}
{{- end }}
{{- end }}

{{/* Whether the operator's rules are bound at all: the chart's own, or an existing ClusterRole. */}}
{{- define "doltdb-operator.bindRules" -}}
{{- if or .Values.installClusterRole .Values.existingClusterRole }}true{{- end }}
{{- end }}

{{/* Whether the chart renders its own rules. */}}
{{- define "doltdb-operator.createRules" -}}
{{- if .Values.installClusterRole }}true{{- end }}
{{- end }}

{{/* "true" when containerArgs already sets the flag (list containerArgs "--flag"): the chart then leaves it out. */}}
{{- define "doltdb-operator.argSet" -}}
{{- $flag := index . 1 }}
{{- range (index . 0) }}
{{- if or (eq (toString .) $flag) (hasPrefix (printf "%s=" $flag) (toString .)) }}true{{ end }}
{{- end }}
{{- end }}

{{/* "true" when containerArgs turns on the reference's --zap-devel (which sets the level and the format). */}}
{{- define "doltdb-operator.zapDevel" -}}
{{- range . }}
{{- if or (eq (toString .) "--zap-devel") (eq (toString .) "--zap-devel=true") }}true{{ end }}
{{- end }}
{{- end }}

{{/* A bind address: "host:port", IPv6 hosts in brackets, "" host for every interface. */}}
{{- define "doltdb-operator.bindAddress" -}}
{{- $host := toString (index . 0) }}
{{- if contains ":" $host }}{{ printf "[%s]:%v" $host (index . 1) }}{{ else }}{{ printf "%s:%v" $host (index . 1) }}{{ end }}
{{- end }}

{{/* The flags the chart derives from values, each unless containerArgs sets it (the operator refuses a repeated flag).
The reference's --zap-log-level, --zap-encoder and --zap-devel in containerArgs count as setting --log-level and
--log-format, so a values file written for the reference keeps its logging. */}}
{{- define "doltdb-operator.derivedArgs" -}}
{{- $args := .Values.containerArgs }}
{{- $flags := list }}
{{- $flags = append $flags (list "--leader-election-id" .Values.leaderElection.id) }}
{{- $flags = append $flags (list "--leader-election-namespace" (include "doltdb-operator.leaderElectionNamespace" .)) }}
{{- if .Values.watchNamespaces }}
{{- $flags = append $flags (list "--watch-namespaces" (join "," .Values.watchNamespaces)) }}
{{- end }}
{{- $devel := include "doltdb-operator.zapDevel" $args }}
{{- if not (or $devel (include "doltdb-operator.argSet" (list $args "--zap-log-level"))) }}
{{- $flags = append $flags (list "--log-level" .Values.logLevel) }}
{{- end }}
{{- if not (or $devel (include "doltdb-operator.argSet" (list $args "--zap-encoder"))) }}
{{- $flags = append $flags (list "--log-format" .Values.logFormat) }}
{{- end }}
{{- $flags = append $flags (list "--cluster-name" .Values.clusterDomain) }}
{{- $flags = append $flags (list "--health-probe-bind-address" (include "doltdb-operator.bindAddress" (list .Values.healthProbeBindHost .Values.healthProbePort))) }}
{{- $flags = append $flags (list "--metrics-bind-address" (ternary (include "doltdb-operator.bindAddress" (list .Values.metrics.bindHost .Values.metrics.port)) "0" .Values.metrics.enabled)) }}
{{- range $flags }}
{{- if not (include "doltdb-operator.argSet" (list $args (index . 0))) }}
- {{ printf "%s=%s" (index . 0) (index . 1) | quote }}
{{- end }}
{{- end }}
{{- end }}
