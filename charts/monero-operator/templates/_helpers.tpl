{{/*
Chart name, truncated to 63 characters (a DNS label).
*/}}
{{- define "monero-operator.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Fully qualified app name: <release>-<chart>, or the release name when it already contains
the chart name. Truncated to 63 characters.
*/}}
{{- define "monero-operator.fullname" -}}
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

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "monero-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "monero-operator.labels" -}}
helm.sh/chart: {{ include "monero-operator.chart" . }}
{{ include "monero-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: monero-operator
{{- end }}

{{/*
Selector labels (stable across upgrades: never add a label here that can change).
*/}}
{{- define "monero-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "monero-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: hook-server
{{- end }}

{{/*
Name of the ServiceAccount to use.
*/}}
{{- define "monero-operator.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "monero-operator.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The image reference: repository@digest, or repository:tag (tag defaults to appVersion).
*/}}
{{- define "monero-operator.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/*
Name of the key-seed Secret (existing or created).
*/}}
{{- define "monero-operator.keySeedSecretName" -}}
{{- default (printf "%s-key-seed" (include "monero-operator.fullname" .)) .Values.keySeed.existingSecret }}
{{- end }}

{{/*
Name of the hook bearer-token Secret (existing or created).
*/}}
{{- define "monero-operator.hookAuthSecretName" -}}
{{- default (printf "%s-hook-token" (include "monero-operator.fullname" .)) .Values.hookAuth.existingSecret }}
{{- end }}

{{/*
A random value that survives upgrades: the existing Secret's key if the Secret is in the
cluster (lookup; empty under `helm template`), else a fresh randAlphaNum.
Call with (dict "ctx" $ "name" <secret name> "key" <key> "length" <n>). Returns base64.
*/}}
{{- define "monero-operator.persistentRandom" -}}
{{- $existing := lookup "v1" "Secret" .ctx.Release.Namespace .name }}
{{- if and $existing $existing.data (hasKey $existing.data .key) }}
{{- index $existing.data .key }}
{{- else }}
{{- randAlphaNum (int .length) | b64enc }}
{{- end }}
{{- end }}
