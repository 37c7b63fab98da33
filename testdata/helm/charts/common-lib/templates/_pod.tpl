{{- define "common-lib.pod" -}}
containers:
  - name: app
    image: {{ .image }}
{{- end }}
