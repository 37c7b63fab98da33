#!/usr/bin/env bash
# Regenerates the attestation test vectors in this folder:
#   attestors/     attestor descriptions (`gcloud container binauthz attestors describe` shapes)
#   attestations/  attestation occurrences (`gcloud container binauthz attestations list` shapes)
#
# Needs: bash, coreutils, openssl (3.x) and gpg (2.2+). No network.
# Keys are generated fresh into a temporary folder (GNUPGHOME included) that is deleted
# on exit: no private key is ever written into the repository. Re-running the script
# changes every key and signature, but not the digests (they are derived from fixed names,
# see `digest` below), so tests/attest.rs keeps working.
#
# The test table in tests/attest.rs says what each vector must produce.
set -euo pipefail
export LC_ALL=C

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$(mktemp -d)"
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
KEYS="$WORK/keys"
mkdir -p "$KEYS" "$WORK/tmp"
export GNUPGHOME="$WORK/gnupg"
mkdir -m 700 "$GNUPGHOME"

OUT_ATTESTORS="$HERE/attestors"
OUT_OCCS="$HERE/attestations"
rm -rf "$OUT_ATTESTORS" "$OUT_OCCS"
mkdir -p "$OUT_ATTESTORS" "$OUT_OCCS"

PROJECT=sec
TIME='2026-01-02T03:04:05.678901Z'
SA='service-123456789@gcp-sa-binaryauthorization.iam.gserviceaccount.com'

# ---------------------------------------------------------------------------------------
# helpers

# digest NAME -> "sha256:<64 hex>", the same derivation as tests/attest.rs: sha256 of
# "binauthz-lint test NAME".
digest() { printf 'sha256:%s' "$(printf 'binauthz-lint test %s' "$1" | sha256sum | cut -c1-64)"; }

# payload ARTIFACT_URL -> the bytes `gcloud container binauthz create-signature-payload
# --artifact-url=ARTIFACT_URL` prints (sorted keys, two-space indent, trailing newline).
payload() {
  local url="${1#https://}"
  local repo="${url%@*}" dig="${url##*@}"
  printf '{\n  "critical": {\n    "identity": {\n      "docker-reference": "%s"\n    },\n    "image": {\n      "docker-manifest-digest": "%s"\n    },\n    "type": "Google cloud binauthz container signature"\n  }\n}\n' "$repo" "$dig"
}

b64() { base64 -w0 "$1"; }
b64url_nopad() { base64 -w0 "$1" | tr '+/' '-_' | tr -d '='; }

# json_text FILE -> FILE's content as the inside of a JSON string
json_text() { awk 'BEGIN { ORS = "" } { gsub(/\\/, "\\\\"); gsub(/"/, "\\\""); print $0 "\\n" }' "$1"; }

# ni_id PUBLIC_PEM -> RFC 6920 id of the DER SubjectPublicKeyInfo
ni_id() {
  printf 'ni:///sha-256;%s' "$(openssl pkey -pubin -in "$1" -outform DER | openssl dgst -sha256 -binary | base64 -w0 | tr '+/' '-_' | tr -d '=')"
}

kms_id() { printf '//cloudkms.googleapis.com/v1/projects/%s/locations/global/keyRings/binauthz/cryptoKeys/%s/cryptoKeyVersions/1' "$PROJECT" "$1"; }

gen_ec() { openssl genpkey -algorithm EC -pkeyopt "ec_paramgen_curve:$2" -out "$KEYS/$1.key" 2>/dev/null; openssl pkey -in "$KEYS/$1.key" -pubout -out "$KEYS/$1.pub"; }
gen_rsa() { openssl genpkey -algorithm RSA -pkeyopt "rsa_keygen_bits:$2" -out "$KEYS/$1.key" 2>/dev/null; openssl pkey -in "$KEYS/$1.key" -pubout -out "$KEYS/$1.pub"; }

# sign_pkix KEY MODE HASH IN OUT; MODE = ecdsa | pkcs1 | pss-digest | pss-max
sign_pkix() {
  local key="$1" mode="$2" hash="$3" in="$4" out="$5"
  case "$mode" in
    ecdsa | pkcs1) openssl dgst "-$hash" -sign "$KEYS/$key.key" -out "$out" "$in" ;;
    pss-digest) openssl dgst "-$hash" -sign "$KEYS/$key.key" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:digest -out "$out" "$in" ;;
    pss-max) openssl dgst "-$hash" -sign "$KEYS/$key.key" -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:max -out "$out" "$in" ;;
    *) echo "bad mode $mode" >&2; exit 1 ;;
  esac
}

# ecdsa_der_to_raw DER_SIG BYTES_PER_INT OUT: r || s, each left-padded to BYTES_PER_INT
ecdsa_der_to_raw() {
  local width=$(($2 * 2)) hex="" int
  for int in $(openssl asn1parse -inform DER -in "$1" | awk -F: '/INTEGER/ { print $NF }'); do
    while [ "${#int}" -lt "$width" ]; do int="0$int"; done
    hex+="${int: -$width}"
  done
  printf '%b' "$(printf '%s' "$hex" | sed 's/../\\x&/g')" >"$3"
}

pkix_key_json() { # ID PUBKEY ALGORITHM [COMMENT]; ID "" = no id field
  local id="$1" pub="$2" alg="$3" comment="${4:-}"
  printf '{\n'
  [ -n "$comment" ] && printf '  "comment": "%s",\n' "$comment"
  [ -n "$id" ] && printf '  "id": "%s",\n' "$id"
  printf '  "pkixPublicKey": {\n    "publicKeyPem": "%s",\n    "signatureAlgorithm": "%s"\n  }\n}' "$(json_text "$KEYS/$pub.pub")" "$alg"
}

pgp_key_json() { # ID ARMORED_FILE
  printf '{\n  "asciiArmoredPgpPublicKey": "%s",\n  "id": "%s"\n}' "$(json_text "$2")" "$1"
}

indent() { sed "s/^/$(printf '%*s' "$1" '')/"; }

# join_json_list ITEM... -> JSON list of the (already JSON) items
join_json_list() {
  local first=1 item
  printf '[\n'
  for item in "$@"; do
    [ "$first" = 1 ] || printf ',\n'
    first=0
    printf '%s' "$item" | indent 2
  done
  printf '\n]\n'
}

attestor_json() { # SLUG DESCRIPTION KEYS_JSON_LIST [NOTE_FIELD]
  local slug="$1" desc="$2" keys="$3" field="${4:-userOwnedGrafeasNote}"
  printf '{\n  "description": "%s",\n  "etag": "\\"%s\\"",\n  "name": "projects/%s/attestors/%s",\n  "updateTime": "%s",\n  "%s": {\n    "delegationServiceAccountEmail": "%s",\n    "noteReference": "projects/%s/notes/%s",\n    "publicKeys": %s\n  }\n}' \
    "$desc" "$(printf '%s' "$slug" | sha256sum | cut -c1-12)" "$PROJECT" "$slug" "$TIME" "$field" "$SA" "$PROJECT" "$slug" "$(printf '%s' "$keys" | indent 4 | sed '1s/^    //')"
}

note() { printf 'projects/%s/notes/%s' "$PROJECT" "$1"; }

# occurrence_json NAME NOTE_SLUG RESOURCE_URI PAYLOAD_B64 SIGNATURES_JSON
occurrence_json() {
  printf '{\n  "attestation": {\n    "serializedPayload": "%s",\n    "signatures": %s\n  },\n  "createTime": "%s",\n  "kind": "ATTESTATION",\n  "name": "projects/%s/occurrences/%s",\n  "noteName": "%s",\n  "resourceUri": "%s",\n  "updateTime": "%s"\n}' \
    "$4" "$(printf '%s' "$5" | indent 4 | sed '1s/^    //')" "$TIME" "$PROJECT" "$1" "$(note "$2")" "$3" "$TIME"
}

sig_json() { # KEY_ID SIGNATURE_B64
  printf '{\n  "publicKeyId": "%s",\n  "signature": "%s"\n}' "$1" "$2"
}

# occurrence_yaml NAME NOTE_SLUG RESOURCE_URI PAYLOAD_B64 KEY_ID SIGNATURE_B64 (one YAML document)
occurrence_yaml() {
  printf -- "---\nattestation:\n  serializedPayload: %s\n  signatures:\n  - publicKeyId: %s\n    signature: %s\ncreateTime: '%s'\nkind: ATTESTATION\nname: projects/%s/occurrences/%s\nnoteName: %s\nresourceUri: %s\nupdateTime: '%s'\n" \
    "$4" "$5" "$6" "$TIME" "$PROJECT" "$1" "$(note "$2")" "$3" "$TIME"
}

T="$WORK/tmp"

# ---------------------------------------------------------------------------------------
# PKIX keys

echo "generating PKIX keys" >&2
gen_ec ec256 P-256
gen_ec ec384 P-384
gen_ec ec521 P-521
gen_ec rogue256 P-256
gen_ec noid256 P-256
gen_rsa rsa2048 2048
gen_rsa rsa3072 3072
gen_rsa rsa4096 4096

ID_EC256="$(ni_id "$KEYS/ec256.pub")"
ID_EC384="$(ni_id "$KEYS/ec384.pub")"
ID_EC521="$(kms_id ecdsa-p521)"
ID_NOID="$(ni_id "$KEYS/noid256.pub")"

# slug | key | algorithm | sign mode | hash | key id
PKIX_TABLE="
ecdsa-p256|ec256|ECDSA_P256_SHA256|ecdsa|sha256|$ID_EC256
ecdsa-p384|ec384|EC_SIGN_P384_SHA384|ecdsa|sha384|$ID_EC384
ecdsa-p521|ec521|ECDSA_P521_SHA512|ecdsa|sha512|$ID_EC521
rsa-pkcs1-2048|rsa2048|RSA_SIGN_PKCS1_2048_SHA256|pkcs1|sha256|$(kms_id rsa-pkcs1-2048)
rsa-pkcs1-3072|rsa3072|RSA_SIGN_PKCS1_3072_SHA256|pkcs1|sha256|$(kms_id rsa-pkcs1-3072)
rsa-pkcs1-4096-sha256|rsa4096|RSA_SIGN_PKCS1_4096_SHA256|pkcs1|sha256|$(kms_id rsa-pkcs1-4096-sha256)
rsa-pkcs1-4096-sha512|rsa4096|RSA_SIGN_PKCS1_4096_SHA512|pkcs1|sha512|$(kms_id rsa-pkcs1-4096-sha512)
rsa-pss-2048|rsa2048|RSA_PSS_2048_SHA256|pss-digest|sha256|$(kms_id rsa-pss-2048)
rsa-pss-3072|rsa3072|RSA_SIGN_PSS_3072_SHA256|pss-max|sha256|$(kms_id rsa-pss-3072)
rsa-pss-4096-sha256|rsa4096|RSA_PSS_4096_SHA256|pss-digest|sha256|$(kms_id rsa-pss-4096-sha256)
rsa-pss-4096-sha512|rsa4096|RSA_SIGN_PSS_4096_SHA512|pss-digest|sha512|$(kms_id rsa-pss-4096-sha512)
"

D_VALID="$(digest valid)"
IMG_VALID="gcr.io/p/app@$D_VALID"
payload "$IMG_VALID" >"$T/valid.json"

declare -a RSA_ATTESTORS=() VALID_OCCS=() FAILURE_DOCS=()
ECDSA_YAML=""

while IFS='|' read -r slug key alg mode hash id; do
  [ -n "$slug" ] || continue
  keys="$(join_json_list "$(pkix_key_json "$id" "$key" "$alg")")"
  doc="$(attestor_json "$slug" "Signs with $alg" "$keys")"
  case "$slug" in
    ecdsa-p256) printf '%s\n' "$doc" >"$OUT_ATTESTORS/ecdsa-p256.json" ;;
    ecdsa-*) ECDSA_YAML+="$slug " ;;
    *) RSA_ATTESTORS+=("$doc") ;;
  esac
  sign_pkix "$key" "$mode" "$hash" "$T/valid.json" "$T/sig-$slug"
  VALID_OCCS+=("$(occurrence_json "valid-$slug" "$slug" "$IMG_VALID" "$(b64 "$T/valid.json")" "$(join_json_list "$(sig_json "$id" "$(b64 "$T/sig-$slug")")")")")
done <<<"$PKIX_TABLE"
join_json_list "${RSA_ATTESTORS[@]}" >"$OUT_ATTESTORS/rsa.json"

# The P-384 and P-521 attestors as `attestors describe --format=yaml` prints them, two
# documents in one stream.
{
  for slug in $ECDSA_YAML; do
    line="$(grep "^$slug|" <<<"$PKIX_TABLE")"
    IFS='|' read -r _ key alg _ _ id <<<"$line"
    printf -- "---\ndescription: Signs with %s\netag: '\"%s\"'\nname: projects/%s/attestors/%s\nupdateTime: '%s'\nuserOwnedGrafeasNote:\n  delegationServiceAccountEmail: %s\n  noteReference: projects/%s/notes/%s\n  publicKeys:\n  - id: %s\n    pkixPublicKey:\n      publicKeyPem: |\n%s\n      signatureAlgorithm: %s\n" \
      "$alg" "$(printf '%s' "$slug" | sha256sum | cut -c1-12)" "$PROJECT" "$slug" "$TIME" "$SA" "$PROJECT" "$slug" "$id" "$(indent 8 <"$KEYS/$key.pub")" "$alg"
  done
} >"$OUT_ATTESTORS/ecdsa.yaml"

# ---------------------------------------------------------------------------------------
# Attestors with special key set-ups (special.json)

declare -a SPECIAL=()
# PKIX key without an id: the id is ni:///sha-256;<base64url(SHA-256(DER))>.
SPECIAL+=("$(attestor_json pkix-noid "PKIX key without id" "$(join_json_list "$(pkix_key_json "" noid256 ECDSA_P256_SHA256)")")")
sign_pkix noid256 ecdsa sha256 "$T/valid.json" "$T/sig-noid"
VALID_OCCS+=("$(occurrence_json valid-pkix-noid pkix-noid "$IMG_VALID" "$(b64 "$T/valid.json")" "$(join_json_list "$(sig_json "$ID_NOID" "$(b64 "$T/sig-noid")")")")")

# An attestor without public keys: never verifies.
SPECIAL+=("$(attestor_json no-keys "No keys at all" "[]")")
VALID_OCCS+=("$(occurrence_json valid-no-keys no-keys "$IMG_VALID" "$(b64 "$T/valid.json")" "$(join_json_list "$(sig_json "$ID_EC256" "$(b64 "$T/sig-ecdsa-p256")")")")")

# A P-256 key declared as RSA-PSS.
SPECIAL+=("$(attestor_json alg-mismatch "Declared algorithm does not fit the key" "$(join_json_list "$(pkix_key_json alg-mismatch-key ec256 RSA_PSS_2048_SHA256)")")")
VALID_OCCS+=("$(occurrence_json valid-alg-mismatch alg-mismatch "$IMG_VALID" "$(b64 "$T/valid.json")" "$(join_json_list "$(sig_json alg-mismatch-key "$(b64 "$T/sig-ecdsa-p256")")")")")

# A 2048-bit RSA key declared as a 4096-bit algorithm.
SPECIAL+=("$(attestor_json rsa-size-mismatch "Declared RSA size does not fit the key" "$(join_json_list "$(pkix_key_json rsa-size-key rsa2048 RSA_SIGN_PKCS1_4096_SHA256)")")")
VALID_OCCS+=("$(occurrence_json valid-rsa-size-mismatch rsa-size-mismatch "$IMG_VALID" "$(b64 "$T/valid.json")" "$(join_json_list "$(sig_json rsa-size-key "$(b64 "$T/sig-rsa-pkcs1-2048")")")")")

# An algorithm the linter does not implement.
SPECIAL+=("$(attestor_json ml-dsa "Post-quantum key (not implemented)" "$(join_json_list "$(pkix_key_json ml-dsa-key ec256 ML_DSA_65)")")")
VALID_OCCS+=("$(occurrence_json valid-ml-dsa ml-dsa "$IMG_VALID" "$(b64 "$T/valid.json")" "$(join_json_list "$(sig_json ml-dsa-key "$(b64 "$T/sig-ecdsa-p256")")")")")

# Two keys; the occurrence carries three signatures of which only the last verifies.
SPECIAL+=("$(attestor_json multi-key "Two keys" "$(join_json_list "$(pkix_key_json multi-rsa rsa2048 RSA_SIGN_PKCS1_2048_SHA256 "first key")" "$(pkix_key_json multi-ec ec384 ECDSA_P384_SHA384 "second key")")")")
D_MULTI="$(digest multi-sig)"
payload "gcr.io/p/app@$D_MULTI" >"$T/multi.json"
sign_pkix rsa2048 pkcs1 sha256 "$T/valid.json" "$T/sig-multi-rsa-wrong"
sign_pkix ec384 ecdsa sha384 "$T/multi.json" "$T/sig-multi-ec"
VALID_OCCS+=("$(occurrence_json multi-sig multi-key "gcr.io/p/app@$D_MULTI" "$(b64 "$T/multi.json")" "$(join_json_list \
  "$(sig_json not-a-key-of-multi "$(b64 "$T/sig-multi-ec")")" \
  "$(sig_json multi-rsa "$(b64 "$T/sig-multi-rsa-wrong")")" \
  "$(sig_json multi-ec "$(b64 "$T/sig-multi-ec")")")")")
join_json_list "${SPECIAL[@]}" >"$OUT_ATTESTORS/special.json"

# v1beta1 attestor shape (userOwnedDrydockNote), as YAML.
{
  printf "description: v1beta1 attestor\nname: projects/%s/attestors/legacy-drydock\nupdateTime: '%s'\nuserOwnedDrydockNote:\n  delegationServiceAccountEmail: %s\n  noteReference: projects/%s/notes/legacy-drydock\n  publicKeys:\n  - id: %s\n    pkixPublicKey:\n      publicKeyPem: |\n%s\n      signatureAlgorithm: ECDSA_P256_SHA256\n" \
    "$PROJECT" "$TIME" "$SA" "$PROJECT" "$ID_EC256" "$(indent 8 <"$KEYS/ec256.pub")"
} >"$OUT_ATTESTORS/legacy-drydock.yaml"
VALID_OCCS+=("$(occurrence_json valid-legacy-drydock legacy-drydock "$IMG_VALID" "$(b64 "$T/valid.json")" "$(join_json_list "$(sig_json "$ID_EC256" "$(b64 "$T/sig-ecdsa-p256")")")")")

# ---------------------------------------------------------------------------------------
# PGP keys

echo "generating PGP keys" >&2
GPG=(gpg --batch --quiet --pinentry-mode loopback --passphrase '')
pgp_gen() { # UID ALGO EXPIRE [FAKED_TIME]
  local faked=()
  [ -n "${4:-}" ] && faked=(--faked-system-time "$4")
  "${GPG[@]}" "${faked[@]}" --quick-gen-key "$1" "$2" sign "$3" 2>/dev/null
  gpg --with-colons --list-keys "$1" 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }'
}
pgp_export() { gpg --armor --export "$1" >"$2"; }
pgp_sign() { # FPR IN OUT [extra gpg args...]
  local fpr="$1" in="$2" out="$3"
  shift 3
  "${GPG[@]}" "$@" --local-user "$fpr" --armor --output "$out" --sign "$in" 2>/dev/null
}

FPR_RSA="$(pgp_gen 'PGP RSA attestor <pgp-rsa@example.com>' rsa3072 never)"
FPR_ED="$(pgp_gen 'PGP Ed25519 attestor <pgp-ed25519@example.com>' ed25519 never)"
FPR_1024="$(pgp_gen 'PGP RSA-1024 attestor <pgp-rsa1024@example.com>' rsa1024 never)"
FPR_EXP="$(pgp_gen 'PGP expired attestor <pgp-expired@example.com>' rsa2048 1y '20200101T000000!')"
FPR_REV="$(pgp_gen 'PGP revoked attestor <pgp-revoked@example.com>' rsa2048 never)"
# A NIST P-256 primary key that can only certify, with a P-256 signing subkey.
"${GPG[@]}" --quick-gen-key 'PGP subkey attestor <pgp-subkey@example.com>' nistp256 cert never 2>/dev/null
FPR_SUB="$(gpg --with-colons --list-keys pgp-subkey@example.com 2>/dev/null | awk -F: '/^fpr/ { print $10; exit }')"
"${GPG[@]}" --quick-add-key "$FPR_SUB" nistp256/ecdsa sign never 2>/dev/null
SUB_SIGNING="$(gpg --with-colons --list-keys "$FPR_SUB" 2>/dev/null | awk -F: '/^fpr/ { n++; if (n == 2) { print $10; exit } }')"

# Valid attestations, made before any revocation.
pgp_sign "$FPR_RSA" "$T/valid.json" "$T/pgp-rsa.asc"
pgp_sign "$FPR_ED" "$T/valid.json" "$T/pgp-ed25519.asc"
pgp_sign "$FPR_1024" "$T/valid.json" "$T/pgp-rsa1024.asc"
pgp_sign "$FPR_EXP" "$T/valid.json" "$T/pgp-expired.asc" --faked-system-time '20200601T000000!'
pgp_sign "$FPR_REV" "$T/valid.json" "$T/pgp-revoked.asc"
pgp_sign "$SUB_SIGNING!" "$T/valid.json" "$T/pgp-subkey.asc"
# Revoke the revoked key with the certificate gpg stored at generation time.
sed 's/^:-----BEGIN/-----BEGIN/' "$GNUPGHOME/openpgp-revocs.d/$FPR_REV.rev" >"$T/rev.asc"
gpg --batch --quiet --import "$T/rev.asc" 2>/dev/null

for pair in "pgp-rsa:$FPR_RSA" "pgp-ed25519:$FPR_ED" "pgp-rsa1024:$FPR_1024" "pgp-expired:$FPR_EXP" "pgp-revoked:$FPR_REV" "pgp-subkey:$FPR_SUB"; do
  slug="${pair%%:*}" fpr="${pair#*:}"
  pgp_export "$fpr" "$T/$slug.pub.asc"
  VALID_OCCS+=("$(occurrence_json "valid-$slug" "$slug" "$IMG_VALID" "$(b64 "$T/valid.json")" "$(join_json_list "$(sig_json "$fpr" "$(b64 "$T/$slug.asc")")")")")
done

declare -a PGP_ATTESTORS=()
PGP_ATTESTORS+=("$(attestor_json pgp-rsa "PGP RSA-3072" "$(join_json_list "$(pgp_key_json "$FPR_RSA" "$T/pgp-rsa.pub.asc")")")")
# The server replaces a PGP key's id with its fingerprint, so the id written here is ignored.
PGP_ATTESTORS+=("$(attestor_json pgp-ed25519 "PGP Ed25519" "$(join_json_list "$(pgp_key_json ignored-by-the-server "$T/pgp-ed25519.pub.asc")")")")
PGP_ATTESTORS+=("$(attestor_json pgp-rsa1024 "PGP RSA-1024 (too small)" "$(join_json_list "$(pgp_key_json "$FPR_1024" "$T/pgp-rsa1024.pub.asc")")")")
PGP_ATTESTORS+=("$(attestor_json pgp-expired "PGP key that expired in 2021" "$(join_json_list "$(pgp_key_json "$FPR_EXP" "$T/pgp-expired.pub.asc")")")")
PGP_ATTESTORS+=("$(attestor_json pgp-revoked "PGP key that was revoked" "$(join_json_list "$(pgp_key_json "$FPR_REV" "$T/pgp-revoked.pub.asc")")")")
PGP_ATTESTORS+=("$(attestor_json pgp-subkey "PGP P-256, signs with a subkey" "$(join_json_list "$(pgp_key_json "$FPR_SUB" "$T/pgp-subkey.pub.asc")")")")
join_json_list "${PGP_ATTESTORS[@]}" >"$OUT_ATTESTORS/pgp.json"

join_json_list "${VALID_OCCS[@]}" >"$OUT_OCCS/valid.json"

# ---------------------------------------------------------------------------------------
# Failure and edge cases: attestations/cases.yaml (a YAML stream, `attestations list
# --format=yaml` style), each case on its own digest.

echo "signing edge cases" >&2
yaml_case() { # CASE NOTE_SLUG RESOURCE_URI PAYLOAD_FILE KEY_ID SIG_FILE [b64 function]
  local enc="${7:-b64}"
  FAILURE_DOCS+=("$(occurrence_yaml "$1" "$2" "$3" "$("$enc" "$4")" "$5" "$("$enc" "$6")")")
}

# tampered: the payload was edited after signing.
D="$(digest tampered)"
payload "gcr.io/p/app@$D" >"$T/tampered.json"
sign_pkix ec256 ecdsa sha256 "$T/tampered.json" "$T/sig-tampered"
sed -i 's#gcr.io/p/app#gcr.io/p/evil#' "$T/tampered.json"
yaml_case tampered ecdsa-p256 "gcr.io/p/app@$D" "$T/tampered.json" "$ID_EC256" "$T/sig-tampered"

# wrong-key: signed by a key the attestor does not trust, claiming the trusted key's id.
D="$(digest wrong-key)"
payload "gcr.io/p/app@$D" >"$T/wrong-key.json"
sign_pkix rogue256 ecdsa sha256 "$T/wrong-key.json" "$T/sig-wrong-key"
yaml_case wrong-key ecdsa-p256 "gcr.io/p/app@$D" "$T/wrong-key.json" "$ID_EC256" "$T/sig-wrong-key"

# unknown-key-id: a key id the attestor does not have.
D="$(digest unknown-key-id)"
payload "gcr.io/p/app@$D" >"$T/unknown.json"
sign_pkix ec256 ecdsa sha256 "$T/unknown.json" "$T/sig-unknown"
yaml_case unknown-key-id ecdsa-p256 "gcr.io/p/app@$D" "$T/unknown.json" "ni:///sha-256;not-a-key-of-this-attestor" "$T/sig-unknown"

# other-digest: a validly signed payload for the digest "valid", filed under another digest.
D="$(digest other-digest)"
yaml_case other-digest ecdsa-p256 "gcr.io/p/app@$D" "$T/valid.json" "$ID_EC256" "$T/sig-ecdsa-p256"

# two-attestors: only ecdsa-p256 attests; ecdsa-p384 does not.
D="$(digest two-attestors)"
payload "gcr.io/p/app@$D" >"$T/two.json"
sign_pkix ec256 ecdsa sha256 "$T/two.json" "$T/sig-two"
yaml_case two-attestors ecdsa-p256 "gcr.io/p/app@$D" "$T/two.json" "$ID_EC256" "$T/sig-two"

# not-json: a verified signature over something that is not a simple-signing payload.
D="$(digest not-json)"
printf 'attest gcr.io/p/app@%s please\n' "$D" >"$T/not-json.txt"
sign_pkix ec256 ecdsa sha256 "$T/not-json.txt" "$T/sig-not-json"
yaml_case not-json ecdsa-p256 "gcr.io/p/app@$D" "$T/not-json.txt" "$ID_EC256" "$T/sig-not-json"

# url-safe: payload and signature in URL-safe base64 without padding.
D="$(digest url-safe)"
payload "gcr.io/p/app@$D" >"$T/url-safe.json"
printf ' ' >>"$T/url-safe.json" # 1 extra byte: the payload's base64 needs padding
sign_pkix rsa2048 pss-digest sha256 "$T/url-safe.json" "$T/sig-url-safe"
yaml_case url-safe rsa-pss-2048 "gcr.io/p/app@$D" "$T/url-safe.json" "$(kms_id rsa-pss-2048)" "$T/sig-url-safe" b64url_nopad

# https-uri: resourceUri with a scheme (older gcloud, REST examples).
D="$(digest https-uri)"
payload "gcr.io/p/app@$D" >"$T/https.json"
sign_pkix ec256 ecdsa sha256 "$T/https.json" "$T/sig-https"
yaml_case https-uri ecdsa-p256 "https://gcr.io/p/app@$D" "$T/https.json" "$ID_EC256" "$T/sig-https"

# other-registry: attested in one registry, deployed from another (digest-only match).
D="$(digest other-registry)"
payload "us-docker.pkg.dev/p/r/app@$D" >"$T/registry.json"
sign_pkix ec256 ecdsa sha256 "$T/registry.json" "$T/sig-registry"
yaml_case other-registry ecdsa-p256 "us-docker.pkg.dev/p/r/app@$D" "$T/registry.json" "$ID_EC256" "$T/sig-registry"

# ecdsa-raw: a fixed-size r||s ECDSA signature instead of DER.
D="$(digest ecdsa-raw)"
payload "gcr.io/p/app@$D" >"$T/raw.json"
sign_pkix ec521 ecdsa sha512 "$T/raw.json" "$T/sig-raw.der"
ecdsa_der_to_raw "$T/sig-raw.der" 66 "$T/sig-raw"
yaml_case ecdsa-raw ecdsa-p521 "gcr.io/p/app@$D" "$T/raw.json" "$ID_EC521" "$T/sig-raw"

# mixed: one bad and one good occurrence for the same digest and attestor.
D="$(digest mixed)"
payload "gcr.io/p/app@$D" >"$T/mixed.json"
sign_pkix ec256 ecdsa sha256 "$T/mixed.json" "$T/sig-mixed"
yaml_case mixed-bad ecdsa-p256 "gcr.io/p/app@$D" "$T/mixed.json" "$ID_EC256" "$T/sig-wrong-key"
yaml_case mixed-good ecdsa-p256 "gcr.io/p/app@$D" "$T/mixed.json" "$ID_EC256" "$T/sig-mixed"

# pgp-sha1: a PGP signature with a SHA-1 hash.
D="$(digest pgp-sha1)"
payload "gcr.io/p/app@$D" >"$T/sha1.json"
pgp_sign "$FPR_RSA" "$T/sha1.json" "$T/sha1.asc" --digest-algo SHA1
yaml_case pgp-sha1 pgp-rsa "gcr.io/p/app@$D" "$T/sha1.json" "$FPR_RSA" "$T/sha1.asc"

# pgp-wrong-key: the Ed25519 key signed, the RSA key's fingerprint is claimed.
D="$(digest pgp-wrong-key)"
payload "gcr.io/p/app@$D" >"$T/pgp-wrong.json"
pgp_sign "$FPR_ED" "$T/pgp-wrong.json" "$T/pgp-wrong.asc"
yaml_case pgp-wrong-key pgp-rsa "gcr.io/p/app@$D" "$T/pgp-wrong.json" "$FPR_RSA" "$T/pgp-wrong.asc"

# pgp-detached: a detached armored signature over serializedPayload.
D="$(digest pgp-detached)"
payload "gcr.io/p/app@$D" >"$T/detached.json"
"${GPG[@]}" --local-user "$FPR_ED" --armor --output "$T/detached.asc" --detach-sign "$T/detached.json" 2>/dev/null
yaml_case pgp-detached pgp-ed25519 "gcr.io/p/app@$D" "$T/detached.json" "$FPR_ED" "$T/detached.asc"

# pgp-declared-id: the signature names the id written in the attestor file, which the
# server replaced by the fingerprint.
D="$(digest pgp-declared-id)"
payload "gcr.io/p/app@$D" >"$T/declared.json"
pgp_sign "$FPR_ED" "$T/declared.json" "$T/declared.asc"
yaml_case pgp-declared-id pgp-ed25519 "gcr.io/p/app@$D" "$T/declared.json" ignored-by-the-server "$T/declared.asc"

printf '%s\n' "${FAILURE_DOCS[@]}" >"$OUT_OCCS/cases.yaml"

# ---------------------------------------------------------------------------------------
# Legacy (v1beta1) occurrence shapes: attestations/legacy.json

D="$(digest legacy-pgp)"
payload "gcr.io/p/app@$D" >"$T/legacy-pgp.json"
pgp_sign "$FPR_RSA" "$T/legacy-pgp.json" "$T/legacy-pgp.asc"
LEGACY_PGP="$(printf '{\n  "attestation": {\n    "attestation": {\n      "pgpSignedAttestation": {\n        "contentType": "SIMPLE_SIGNING_JSON",\n        "pgpKeyId": "%s",\n        "signature": "%s"\n      }\n    }\n  },\n  "createTime": "%s",\n  "kind": "ATTESTATION",\n  "name": "projects/%s/occurrences/legacy-pgp",\n  "noteName": "%s",\n  "resource": {\n    "uri": "https://gcr.io/p/app@%s"\n  }\n}' \
  "$FPR_RSA" "$(json_text "$T/legacy-pgp.asc")" "$TIME" "$PROJECT" "$(note pgp-rsa)" "$D")"

D="$(digest legacy-generic)"
payload "gcr.io/p/app@$D" >"$T/legacy-generic.json"
sign_pkix ec256 ecdsa sha256 "$T/legacy-generic.json" "$T/sig-legacy-generic"
LEGACY_GENERIC="$(printf '{\n  "attestation": {\n    "genericSignedAttestation": {\n      "contentType": "SIMPLE_SIGNING_JSON",\n      "serializedPayload": "%s",\n      "signatures": [\n        {\n          "publicKeyId": "%s",\n          "signature": "%s"\n        }\n      ]\n    }\n  },\n  "kind": "ATTESTATION",\n  "name": "projects/%s/occurrences/legacy-generic",\n  "noteName": "%s",\n  "resourceUri": "gcr.io/p/app@%s"\n}' \
  "$(b64 "$T/legacy-generic.json")" "$ID_EC256" "$(b64 "$T/sig-legacy-generic")" "$PROJECT" "$(note ecdsa-p256)" "$D")"
join_json_list "$LEGACY_PGP" "$LEGACY_GENERIC" >"$OUT_OCCS/legacy.json"

# A single occurrence object in its own file.
D="$(digest single-file)"
payload "gcr.io/p/app@$D" >"$T/single.json"
sign_pkix rsa4096 pkcs1 sha512 "$T/single.json" "$T/sig-single"
printf '%s\n' "$(occurrence_json single-file rsa-pkcs1-4096-sha512 "gcr.io/p/app@$D" "$(b64 "$T/single.json")" "$(join_json_list "$(sig_json "$(kms_id rsa-pkcs1-4096-sha512)" "$(b64 "$T/sig-single")")")")" >"$OUT_OCCS/single.json"

# ---------------------------------------------------------------------------------------
# Cross-check the payload format with gcloud where it is installed (offline command).
if command -v gcloud >/dev/null 2>&1; then
  if CLOUDSDK_AUTH_ACCESS_TOKEN=unused CLOUDSDK_CORE_DISABLE_PROMPTS=1 gcloud container binauthz create-signature-payload \
    --artifact-url="$IMG_VALID" >"$T/gcloud-payload.json" 2>/dev/null; then
    cmp -s "$T/gcloud-payload.json" "$T/valid.json" || { echo "payload differs from gcloud's" >&2; exit 1; }
    echo "payload format matches gcloud create-signature-payload" >&2
  fi
fi

# Delete the private keys now (the trap deletes the rest of the work folder too).
rm -rf "$KEYS" "$GNUPGHOME"
echo "wrote $(ls "$OUT_ATTESTORS" | wc -l) attestor files and $(ls "$OUT_OCCS" | wc -l) attestation files; private keys deleted" >&2
