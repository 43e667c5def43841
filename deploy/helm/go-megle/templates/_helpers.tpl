{{/* Names: <release>-go-megle, or the release name when it already says go-megle. */}}
{{- define "go-megle.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "go-megle.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* The selector of one component's pods: server, redis or coturn. */}}
{{- define "go-megle.selector" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "go-megle.image" -}}
{{- $i := .Values.image -}}
{{- if $i.digest -}}
{{- if not (regexMatch "^sha256:[0-9a-f]{64}$" $i.digest) -}}
{{- fail (printf "image.digest %q must be sha256:<64 hex digits>" $i.digest) -}}
{{- end -}}
{{- printf "%s@%s" $i.repository $i.digest -}}
{{- else -}}
{{- printf "%s:%s" $i.repository (default .Chart.AppVersion $i.tag) -}}
{{- end -}}
{{- end -}}

{{- define "go-megle.secretName" -}}
{{- .Values.secrets.existingSecret | default (printf "%s-secrets" (include "go-megle.fullname" .)) -}}
{{- end -}}

{{- define "go-megle.turnEnabled" -}}
{{- if or .Values.coturn.enabled .Values.turn.urls }}true{{ end -}}
{{- end -}}

{{- define "go-megle.redisAuth" -}}
{{- if or .Values.redis.enabled .Values.externalRedis.auth }}true{{ end -}}
{{- end -}}

{{/*
Every secret the server is given, by its environment variable (which is also its key in the
Secret), and whether this release needs it. Adding a secret is one line here and one under
.Values.secrets: the Secret, the environment and the checks all follow this list.
*/}}
{{- define "go-megle.secretsNeeded" -}}
{{- $turn := eq (include "go-megle.turnEnabled" .) "true" -}}
{{- $redis := eq (include "go-megle.redisAuth" .) "true" -}}
{{- $needed := dict
      "BAN_SECRET" true
      "TURN_SECRET" $turn
      "MOD_TOKEN" .Values.moderation.enabled
      "REDIS_PASSWORD" $redis
-}}
{{- toYaml $needed -}}
{{- end -}}

{{/*
The Secret's data: a value given in values, else the one the cluster already holds (so that a
generated secret is generated once and kept), else a new one with secrets.generate, else a
clear failure. With secrets.existingSecret the chart writes nothing and, where it can look,
checks that every needed key is there.
*/}}
{{- define "go-megle.secretData" -}}
{{- if not (hasKey .Values "_secretDataOfThisRender") -}}
{{- $_ := set .Values "_secretDataOfThisRender" (include "go-megle.secretDataOnce" .) -}}
{{- end -}}
{{- get .Values "_secretDataOfThisRender" -}}
{{- end -}}

{{/* (The Secret and the pods' checksum of it must see the same generated values: one render
generates once, remembered above in this render's values.) */}}
{{- define "go-megle.secretDataOnce" -}}
{{- $name := include "go-megle.secretName" . -}}
{{- $found := lookup "v1" "Secret" .Release.Namespace $name -}}
{{- $kept := dig "data" dict $found -}}
{{- $data := dict -}}
{{- range $key, $needed := include "go-megle.secretsNeeded" . | fromYaml -}}
{{- if $needed -}}
{{- $given := get $.Values.secrets $key | default "" -}}
{{- if $.Values.secrets.existingSecret -}}
{{- if and $found (not (hasKey $kept $key)) -}}
{{- fail (printf "secrets.existingSecret %q has no key %s, which this release needs" $name $key) -}}
{{- end -}}
{{- else if $given -}}
{{- if contains "insecure-dev" $given -}}
{{- fail (printf "secrets.%s is a development default: set a real secret" $key) -}}
{{- end -}}
{{- $_ := set $data $key ($given | b64enc) -}}
{{- else if hasKey $kept $key -}}
{{- $_ := set $data $key (get $kept $key) -}}
{{- else if $.Values.secrets.generate -}}
{{- $_ := set $data $key (randAlphaNum 48 | b64enc) -}}
{{- else -}}
{{- fail (printf "secrets.%s is required: set it, or name an existing Secret holding it (secrets.existingSecret), or set secrets.generate=true to generate it at install and keep it" $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- if and .Values.moderation.enabled .Values.secrets.MOD_TOKEN (lt (len .Values.secrets.MOD_TOKEN) 16) -}}
{{- fail "secrets.MOD_TOKEN must be at least 16 characters (it guards bans and every report's evidence)" -}}
{{- end -}}
{{- toYaml $data -}}
{{- end -}}

{{/* The Redis the replicas use: exactly one of the four ways. */}}
{{- define "go-megle.redisEnv" -}}
{{- $r := .Values.externalRedis -}}
{{- $ways := 0 -}}
{{- range (list .Values.redis.enabled $r.url $r.sentinel.addrs $r.cluster.addrs) }}{{ if . }}{{ $ways = add1 $ways }}{{ end }}{{ end -}}
{{- if ne (int $ways) 1 -}}
{{- fail "set exactly one Redis: externalRedis.url, externalRedis.sentinel.addrs (with .master), externalRedis.cluster.addrs, or redis.enabled=true (a trial Redis in the chart)" -}}
{{- end -}}
{{- if .Values.redis.enabled }}
- name: REDIS_URL
  value: {{ printf "redis://%s-redis:6379/0" (include "go-megle.fullname" .) | quote }}
{{- else if $r.url }}
{{- if not (regexMatch "^rediss?://[^@]*$" $r.url) }}
{{- fail "externalRedis.url must be redis:// or rediss:// without a password in it (the password is secrets.REDIS_PASSWORD)" }}
{{- end }}
- name: REDIS_URL
  value: {{ $r.url | quote }}
{{- else if $r.sentinel.addrs }}
{{- if not $r.sentinel.master }}{{ fail "externalRedis.sentinel.addrs needs externalRedis.sentinel.master" }}{{ end }}
- name: REDIS_SENTINEL_ADDRS
  value: {{ join "," $r.sentinel.addrs | quote }}
- name: REDIS_SENTINEL_MASTER
  value: {{ $r.sentinel.master | quote }}
{{- else }}
- name: REDIS_CLUSTER_ADDRS
  value: {{ join "," $r.cluster.addrs | quote }}
{{- end }}
{{- end -}}

{{/* TURN_URLS: the ones given, or the chart's coturn at coturn.host. */}}
{{- define "go-megle.turnURLs" -}}
{{- if .Values.turn.urls -}}
{{- join "," .Values.turn.urls -}}
{{- else if .Values.coturn.enabled -}}
{{- $h := required "coturn.host is required with coturn.enabled: the public name or address clients reach TURN at" .Values.coturn.host -}}
{{- printf "turn:%s:%d?transport=udp,turn:%s:%d?transport=tcp" $h (int .Values.coturn.listeningPort) $h (int .Values.coturn.listeningPort) -}}
{{- end -}}
{{- end -}}

{{/* terminationGracePeriodSeconds: the pause, the whole drain, and 5 s for the process to exit. */}}
{{- define "go-megle.gracePeriod" -}}
{{- add (int .Values.server.preStopSeconds) (int .Values.server.shutdownTimeoutSeconds) 5 -}}
{{- end -}}

{{/* The container's security context, shared by every container of the chart. */}}
{{- define "go-megle.containerSecurity" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "go-megle.podSecurity" -}}
runAsNonRoot: true
runAsUser: {{ .uid }}
runAsGroup: {{ .uid }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/*
Peer addresses coturn must never relay to, in coturn's first-last form: the same list as the
coturn of docker-compose.yml (a test holds the two equal; README: "TURN" says why each).
*/}}
{{- define "go-megle.deniedPeers" -}}
- 0.0.0.0-0.255.255.255
- 10.0.0.0-10.255.255.255
- 100.64.0.0-100.127.255.255
- 127.0.0.0-127.255.255.255
- 169.254.0.0-169.254.255.255
- 172.16.0.0-172.31.255.255
- 192.0.0.0-192.0.0.255
- 192.88.99.0-192.88.99.255
- 192.168.0.0-192.168.255.255
- 198.18.0.0-198.19.255.255
- 224.0.0.0-239.255.255.255
- 240.0.0.0-255.255.255.255
- ::1
- ::0.0.0.1-::0.0.0.255
- ::0.0.1.0-::0.0.255.255
- ::0.1.0.0-::0.255.255.255
- ::1.0.0.0-::255.255.255.255
- ::ffff:0.0.0.0-::ffff:255.255.255.255
- ::ffff:0:0.0.0.0-::ffff:0:255.255.255.255
- 64:ff9b::-64:ff9b::ffff:ffff
- 64:ff9b:1::-64:ff9b:1:ffff:ffff:ffff:ffff:ffff
- 100::-100::ffff:ffff:ffff:ffff
- 2002::-2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff
- fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
- fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff
- fec0::-feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
- ff00::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff
{{- end -}}

{{/* The same ranges as CIDRs, for coturn's network policy (a test checks they cover them). */}}
{{- define "go-megle.privateIPv4" -}}
- 0.0.0.0/8
- 10.0.0.0/8
- 100.64.0.0/10
- 127.0.0.0/8
- 169.254.0.0/16
- 172.16.0.0/12
- 192.0.0.0/24
- 192.88.99.0/24
- 192.168.0.0/16
- 198.18.0.0/15
- 224.0.0.0/4
- 240.0.0.0/4
{{- end -}}

{{- define "go-megle.privateIPv6" -}}
- ::/96
- ::ffff:0:0/96
- ::ffff:0:0:0/96
- 64:ff9b::/96
- 64:ff9b:1::/48
- 100::/64
- 2002::/16
- fc00::/7
- fe80::/10
- fec0::/10
- ff00::/8
{{- end -}}
