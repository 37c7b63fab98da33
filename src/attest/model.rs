//! Attestor and attestation-occurrence models, loaded from gcloud's output formats.
//!
//! Files are read leniently where the formats grow (unknown keys are ignored; a single
//! object, a list, a YAML stream, or a REST `{"occurrences": [...]}` page are all fine)
//! and strictly where a mistake would silently change a verdict (missing names, notes or
//! key material, undecodable base64, duplicate attestors or key ids): those are
//! [`AttestInputError`]s pointing at the offending value.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use super::AttestInputError;
use super::digest::resource_uri_digest;
use super::payload::check_payload;
use super::pgp::{PgpKey, PgpVerified};
use super::tree::{Node, Value, parse_documents};
use super::verify::{self, Algorithm, Failure, PkixKey, decode_base64};

/// Gives every loaded key a process-unique number, so verification results can be cached
/// per (occurrence, signature, key) even when several attestor sets are in use.
static NEXT_KEY_UID: AtomicU64 = AtomicU64::new(1);

// ---------------------------------------------------------------------------------------
// Attestors

/// Attestors by full resource name `projects/P/attestors/A`.
#[derive(Debug, Default)]
pub struct AttestorSet {
    attestors: BTreeMap<String, Attestor>,
}

/// One attestor: its note and trusted public keys.
#[derive(Debug)]
pub struct Attestor {
    name: String,
    description: Option<String>,
    note_reference: String,
    keys: Vec<AttestorKey>,
    file: String,
    line: u32,
}

/// One trusted public key of an attestor.
#[derive(Debug)]
pub struct AttestorKey {
    id: String,
    /// For PGP keys: the `id` written in the file, which the server replaces by the
    /// fingerprint (kept only to explain a mismatch).
    declared_id: Option<String>,
    comment: Option<String>,
    material: KeyMaterial,
    uid: u64,
}

#[derive(Debug)]
enum KeyMaterial {
    Pkix {
        algorithm_name: String,
        algorithm: Algorithm,
        key: PkixKey,
    },
    Pgp(Box<PgpKey>),
}

impl Attestor {
    /// Full resource name, `projects/P/attestors/A`.
    pub fn name(&self) -> &str {
        &self.name
    }
    pub fn description(&self) -> Option<&str> {
        self.description.as_deref()
    }
    /// The Container Analysis note its attestations are occurrences of.
    pub fn note_reference(&self) -> &str {
        &self.note_reference
    }
    pub fn keys(&self) -> &[AttestorKey] {
        &self.keys
    }
    /// File and line the attestor was read from (for diagnostics).
    pub fn source(&self) -> (&str, u32) {
        (&self.file, self.line)
    }
}

impl Attestor {
    /// An attestor made of inline PKIX keys: a platform policy's `attestationAuthenticators`
    /// entry, which names no note (its check accepts an occurrence of any note). Each key is
    /// `(keyId, publicKeyPem, signatureAlgorithm)`; without a `keyId` the key gets the id the
    /// server derives (A26). The error is the index of the bad key and why.
    pub fn from_pkix_keys(
        name: &str,
        keys: &[(Option<&str>, &str, &str)],
        file: &str,
        line: u32,
    ) -> Result<Attestor, (usize, String)> {
        let mut parsed_keys = Vec::with_capacity(keys.len());
        for (index, (id, pem, algorithm_name)) in keys.iter().enumerate() {
            let parsed = verify::parse_public_key_pem(pem).map_err(|message| (index, message))?;
            let id = id
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .map_or_else(|| verify::ni_key_id(&parsed.der), str::to_string);
            parsed_keys.push(AttestorKey {
                id,
                declared_id: None,
                comment: None,
                material: KeyMaterial::Pkix {
                    algorithm: Algorithm::parse(algorithm_name),
                    algorithm_name: algorithm_name.to_string(),
                    key: parsed.key,
                },
                uid: NEXT_KEY_UID.fetch_add(1, Ordering::Relaxed),
            });
        }
        Ok(Attestor {
            name: name.to_string(),
            description: None,
            note_reference: String::new(),
            keys: parsed_keys,
            file: file.to_string(),
            line,
        })
    }
}

impl AttestorKey {
    /// The id signatures must name: the given `id`, the computed `ni:///sha-256;…` id of a
    /// PKIX key without one (A26), or the fingerprint of a PGP key.
    pub fn id(&self) -> &str {
        &self.id
    }
    pub fn comment(&self) -> Option<&str> {
        self.comment.as_deref()
    }
    /// `"pkix"` or `"pgp"`.
    pub fn kind(&self) -> &'static str {
        match self.material {
            KeyMaterial::Pkix { .. } => "pkix",
            KeyMaterial::Pgp(_) => "pgp",
        }
    }
    /// The declared `signatureAlgorithm` of a PKIX key.
    pub fn algorithm(&self) -> Option<&str> {
        match &self.material {
            KeyMaterial::Pkix { algorithm_name, .. } => Some(algorithm_name),
            KeyMaterial::Pgp(_) => None,
        }
    }
}

impl AttestorSet {
    /// Reads a file, or every `.json`/`.yaml`/`.yml` file directly inside a folder (not
    /// its sub-folders; hidden files skipped), in name order.
    pub fn load(path: &Path) -> Result<AttestorSet, AttestInputError> {
        let mut set = AttestorSet::default();
        for (file, label) in input_files(path)? {
            let text = read_text(&file, &label)?;
            set.add_text(&text, &label)?;
        }
        Ok(set)
    }

    /// Reads attestors from text; `file_label` names it in errors.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str, file_label: &str) -> Result<AttestorSet, AttestInputError> {
        let mut set = AttestorSet::default();
        set.add_text(text, file_label)?;
        Ok(set)
    }

    pub fn get(&self, name: &str) -> Option<&Attestor> {
        self.attestors.get(name)
    }

    /// Attestor names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.attestors.keys().map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.attestors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.attestors.is_empty()
    }

    fn add_text(&mut self, text: &str, file: &str) -> Result<(), AttestInputError> {
        for document in parse_documents(text, file)? {
            for node in items(&document, file, "an attestor", None)? {
                self.add_node(node, file)?;
            }
        }
        Ok(())
    }

    /// Add one attestor object (gcloud `attestors describe` shape).
    pub(crate) fn add_node(&mut self, node: &Node, file: &str) -> Result<(), AttestInputError> {
        let attestor = parse_attestor(node, file)?;
        if let Some(previous) = self.attestors.get(&attestor.name) {
            return Err(AttestInputError::new(
                file,
                node.line,
                node.column,
                format!(
                    "attestor {} is defined twice (first at {}:{})",
                    attestor.name, previous.file, previous.line
                ),
            ));
        }
        self.attestors.insert(attestor.name.clone(), attestor);
        Ok(())
    }
}

/// The objects a document holds: itself (a mapping), its items (a list), or the items of
/// `wrapper_key` (a REST list page such as `{"occurrences": [...]}`).
fn items<'n>(
    document: &'n Node,
    file: &str,
    what: &str,
    wrapper_key: Option<&str>,
) -> Result<Vec<&'n Node>, AttestInputError> {
    let list = match (&document.value, wrapper_key.and_then(|k| document.get(k))) {
        (Value::Map(_), Some(inner)) if matches!(inner.value, Value::Seq(_) | Value::Null) => inner,
        _ => document,
    };
    match &list.value {
        Value::Map(_) => Ok(vec![list]),
        Value::Null => Ok(Vec::new()),
        Value::Seq(elements) => {
            for element in elements {
                if !matches!(element.value, Value::Map(_)) {
                    return Err(AttestInputError::new(
                        file,
                        element.line,
                        element.column,
                        format!("expected {what} object, found {}", element.kind()),
                    ));
                }
            }
            Ok(elements.iter().collect())
        }
        Value::Scalar(_) => Err(AttestInputError::new(
            file,
            list.line,
            list.column,
            format!("expected {what} object or a list of them, found a scalar"),
        )),
    }
}

/// A string field: `Ok(None)` when absent or null, an error when it is not a scalar.
fn opt_str<'n>(
    node: &'n Node,
    key: &str,
    file: &str,
) -> Result<Option<(&'n str, &'n Node)>, AttestInputError> {
    match node.get(key) {
        None => Ok(None),
        Some(value) => match &value.value {
            Value::Null => Ok(None),
            Value::Scalar(text) => Ok(Some((text.as_str(), value))),
            _ => Err(AttestInputError::new(
                file,
                value.line,
                value.column,
                format!("`{key}` must be a string, found {}", value.kind()),
            )),
        },
    }
}

fn req_str<'n>(
    node: &'n Node,
    key: &str,
    file: &str,
    context: &str,
) -> Result<(&'n str, &'n Node), AttestInputError> {
    match opt_str(node, key, file)? {
        Some((text, value)) if !text.trim().is_empty() => Ok((text, value)),
        Some((_, value)) => Err(AttestInputError::new(
            file,
            value.line,
            value.column,
            format!("{context}: `{key}` is empty"),
        )),
        None => Err(AttestInputError::new(
            file,
            node.line,
            node.column,
            format!("{context}: missing `{key}`"),
        )),
    }
}

/// A mapping field: `Ok(None)` when absent or null.
fn opt_map<'n>(
    node: &'n Node,
    key: &str,
    file: &str,
) -> Result<Option<&'n Node>, AttestInputError> {
    match node.get(key) {
        None => Ok(None),
        Some(value) => match value.value {
            Value::Null => Ok(None),
            Value::Map(_) => Ok(Some(value)),
            _ => Err(AttestInputError::new(
                file,
                value.line,
                value.column,
                format!("`{key}` must be a mapping, found {}", value.kind()),
            )),
        },
    }
}

/// A list field: empty when absent or null.
fn opt_list<'n>(node: &'n Node, key: &str, file: &str) -> Result<&'n [Node], AttestInputError> {
    match node.get(key) {
        None => Ok(&[]),
        Some(value) => match &value.value {
            Value::Null => Ok(&[]),
            Value::Seq(items) => Ok(items),
            _ => Err(AttestInputError::new(
                file,
                value.line,
                value.column,
                format!("`{key}` must be a list, found {}", value.kind()),
            )),
        },
    }
}

fn is_attestor_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('/').collect();
    matches!(parts.as_slice(), ["projects", project, "attestors", attestor] if !project.is_empty() && !attestor.is_empty())
}

fn parse_attestor(node: &Node, file: &str) -> Result<Attestor, AttestInputError> {
    let (name, name_node) = req_str(node, "name", file, "attestor")?;
    if !is_attestor_name(name) {
        return Err(AttestInputError::new(
            file,
            name_node.line,
            name_node.column,
            format!(
                "attestor name `{name}` is not a full resource name projects/PROJECT/attestors/NAME"
            ),
        ));
    }
    let context = format!("attestor {name}");
    let note = match opt_map(node, "userOwnedGrafeasNote", file)? {
        Some(note) => note,
        None => opt_map(node, "userOwnedDrydockNote", file)?.ok_or_else(|| {
            AttestInputError::new(
                file,
                node.line,
                node.column,
                format!(
                    "{context}: missing `userOwnedGrafeasNote` (or v1beta1 `userOwnedDrydockNote`)"
                ),
            )
        })?,
    };
    let (note_reference, _) = req_str(note, "noteReference", file, &context)?;
    let mut keys: Vec<AttestorKey> = Vec::new();
    for key_node in opt_list(note, "publicKeys", file)? {
        let key = parse_key(key_node, file, &context)?;
        if keys.iter().any(|k| k.id == key.id) {
            return Err(AttestInputError::new(
                file,
                key_node.line,
                key_node.column,
                format!("{context}: two public keys have the id {}", key.id),
            ));
        }
        keys.push(key);
    }
    Ok(Attestor {
        name: name.to_string(),
        description: opt_str(node, "description", file)?.map(|(d, _)| d.to_string()),
        note_reference: note_reference.trim().to_string(),
        keys,
        file: file.to_string(),
        line: node.line,
    })
}

fn parse_key(node: &Node, file: &str, context: &str) -> Result<AttestorKey, AttestInputError> {
    if !matches!(node.value, Value::Map(_)) {
        return Err(AttestInputError::new(
            file,
            node.line,
            node.column,
            format!(
                "{context}: a public key must be a mapping, found {}",
                node.kind()
            ),
        ));
    }
    let declared_id = opt_str(node, "id", file)?
        .map(|(id, _)| id.trim().to_string())
        .filter(|id| !id.is_empty());
    let comment = opt_str(node, "comment", file)?.map(|(c, _)| c.to_string());
    let pkix = opt_map(node, "pkixPublicKey", file)?;
    let pgp = opt_str(node, "asciiArmoredPgpPublicKey", file)?;
    let uid = NEXT_KEY_UID.fetch_add(1, Ordering::Relaxed);
    match (pkix, pgp) {
        (Some(pkix), None) => {
            let (pem, pem_node) = req_str(pkix, "publicKeyPem", file, context)?;
            let parsed = verify::parse_public_key_pem(pem).map_err(|message| {
                AttestInputError::new(
                    file,
                    pem_node.line,
                    pem_node.column,
                    format!("{context}: {message}"),
                )
            })?;
            let algorithm_name = opt_str(pkix, "signatureAlgorithm", file)?
                .map(|(a, _)| a.trim().to_string())
                .unwrap_or_default();
            let id = declared_id.unwrap_or_else(|| verify::ni_key_id(&parsed.der));
            Ok(AttestorKey {
                id,
                declared_id: None,
                comment,
                material: KeyMaterial::Pkix {
                    algorithm: Algorithm::parse(&algorithm_name),
                    algorithm_name,
                    key: parsed.key,
                },
                uid,
            })
        }
        (None, Some((armored, armored_node))) => {
            let key = PgpKey::parse(armored).map_err(|message| {
                AttestInputError::new(
                    file,
                    armored_node.line,
                    armored_node.column,
                    format!("{context}: {message}"),
                )
            })?;
            Ok(AttestorKey {
                id: key.fingerprint.clone(),
                declared_id,
                comment,
                material: KeyMaterial::Pgp(Box::new(key)),
                uid,
            })
        }
        (Some(_), Some(_)) => Err(AttestInputError::new(
            file,
            node.line,
            node.column,
            format!(
                "{context}: a public key has both `pkixPublicKey` and `asciiArmoredPgpPublicKey`"
            ),
        )),
        (None, None) => Err(AttestInputError::new(
            file,
            node.line,
            node.column,
            format!(
                "{context}: a public key has neither `pkixPublicKey` nor `asciiArmoredPgpPublicKey`"
            ),
        )),
    }
}

// ---------------------------------------------------------------------------------------
// Occurrences

/// Attestation occurrences, indexed by the sha256 digest of their `resourceUri`.
///
/// Verification results are cached per (occurrence, signature, key), so an image that
/// appears in many manifests is verified once. The store is `Sync`: evaluate images from
/// several threads at once.
#[derive(Debug, Default)]
pub struct AttestationStore {
    occurrences: Vec<Occurrence>,
    by_digest: HashMap<String, Vec<usize>>,
    cache: Mutex<HashMap<CacheKey, Arc<OnceLock<CryptoResult>>>>,
}

/// (occurrence index, signature index, key uid).
type CacheKey = (usize, usize, u64);

#[derive(Debug)]
pub(crate) struct Occurrence {
    pub name: String,
    pub note_name: String,
    /// `serializedPayload`, decoded.
    payload: Option<Vec<u8>>,
    signatures: Vec<OccurrenceSignature>,
    jwts: usize,
}

#[derive(Debug)]
struct OccurrenceSignature {
    /// `publicKeyId` (v1, generic) or `pgpKeyId` (legacy PGP).
    key_id: Option<String>,
    bytes: Vec<u8>,
    /// From a v1beta1 `pgpSignedAttestation`: the key id is a PGP fingerprint or key id.
    legacy_pgp: bool,
}

/// The cacheable, time-independent part of checking one signature with one key.
type CryptoResult = Result<Verified, Failure>;

#[derive(Debug, Clone)]
enum Verified {
    /// A PKIX signature over `serializedPayload`.
    Pkix,
    Pgp(Arc<PgpVerified>),
}

impl AttestationStore {
    /// Reads a file, or every `.json`/`.yaml`/`.yml` file directly inside a folder (not
    /// its sub-folders; hidden files skipped), in name order.
    pub fn load(path: &Path) -> Result<AttestationStore, AttestInputError> {
        let mut store = AttestationStore::default();
        for (file, label) in input_files(path)? {
            let text = read_text(&file, &label)?;
            store.add_text(&text, &label)?;
        }
        Ok(store)
    }

    /// Reads occurrences from text; `file_label` names it in errors.
    #[allow(clippy::should_implement_trait)]
    pub fn from_str(text: &str, file_label: &str) -> Result<AttestationStore, AttestInputError> {
        let mut store = AttestationStore::default();
        store.add_text(text, file_label)?;
        Ok(store)
    }

    /// Number of attestation occurrences read (other occurrence kinds are skipped).
    pub fn len(&self) -> usize {
        self.occurrences.len()
    }

    pub fn is_empty(&self) -> bool {
        self.occurrences.is_empty()
    }

    /// Number of distinct digests with at least one occurrence.
    pub fn digest_count(&self) -> usize {
        self.by_digest.len()
    }

    fn add_text(&mut self, text: &str, file: &str) -> Result<(), AttestInputError> {
        for document in parse_documents(text, file)? {
            for node in items(&document, file, "an occurrence", Some("occurrences"))? {
                if let Some((occurrence, digest)) = parse_occurrence(node, file)? {
                    let index = self.occurrences.len();
                    self.occurrences.push(occurrence);
                    if let Some(digest) = digest {
                        self.by_digest.entry(digest).or_default().push(index);
                    }
                }
            }
        }
        Ok(())
    }

    pub(crate) fn occurrences_for(&self, digest: &str) -> &[usize] {
        self.by_digest.get(digest).map_or(&[], Vec::as_slice)
    }

    pub(crate) fn occurrence(&self, index: usize) -> Option<&Occurrence> {
        self.occurrences.get(index)
    }

    /// Checks one occurrence (already known to be of the attestor's note and for
    /// `digest`) against the attestor's keys. `Ok` is the success detail; `Err` lists why
    /// each signature failed.
    pub(crate) fn verify_occurrence(
        &self,
        index: usize,
        attestor: &Attestor,
        digest: &str,
        now: SystemTime,
    ) -> Result<String, Vec<String>> {
        let Some(occurrence) = self.occurrences.get(index) else {
            return Err(vec!["internal: unknown occurrence".into()]);
        };
        let at = |reason: String| format!("{reason} (occurrence {})", occurrence.name);
        if occurrence.signatures.is_empty() {
            let reason = if occurrence.jwts > 0 {
                "the occurrence carries only JWT attestations, which binauthz-lint does not verify"
            } else {
                "the occurrence has no signatures"
            };
            return Err(vec![at(reason.to_string())]);
        }
        let mut failures = Vec::new();
        for (signature_index, signature) in occurrence.signatures.iter().enumerate() {
            let keys = match candidate_keys(attestor, signature) {
                Ok(keys) => keys,
                Err(reason) => {
                    failures.push(at(reason));
                    continue;
                }
            };
            for key in keys {
                let result = self.crypto(index, signature_index, key, occurrence, signature);
                match self.accept(result, key, occurrence, digest, now) {
                    Ok(()) => {
                        return Ok(format!(
                            "verified by key {} (occurrence {})",
                            key.id, occurrence.name
                        ));
                    }
                    Err(reason) => failures.push(at(reason)),
                }
            }
        }
        Err(failures)
    }

    /// The policy and payload checks after the (cached) cryptographic check.
    fn accept(
        &self,
        result: CryptoResult,
        key: &AttestorKey,
        occurrence: &Occurrence,
        digest: &str,
        now: SystemTime,
    ) -> Result<(), String> {
        let id = &key.id;
        let verified = result.map_err(|failure| match failure {
            Failure::Mismatch => format!("signature does not verify under key {id}"),
            Failure::Setup(reason) => format!("key {id}: {reason}"),
            Failure::Malformed(reason) => format!("{reason} (key {id})"),
        })?;
        let payload: &[u8] = match (&verified, &key.material) {
            (Verified::Pgp(pgp), KeyMaterial::Pgp(pgp_key)) => {
                pgp_key.check_policy(pgp, now)?;
                &pgp.signed
            }
            _ => occurrence.payload.as_deref().unwrap_or_default(),
        };
        check_payload(payload, digest)
    }

    /// Verifies one signature with one key, exactly once: results are cached, and a
    /// thread that asks while another is verifying the same triple waits for its result
    /// instead of verifying again.
    fn crypto(
        &self,
        occurrence_index: usize,
        signature_index: usize,
        key: &AttestorKey,
        occurrence: &Occurrence,
        signature: &OccurrenceSignature,
    ) -> CryptoResult {
        let slot = Arc::clone(
            self.cache
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry((occurrence_index, signature_index, key.uid))
                .or_default(),
        );
        slot.get_or_init(|| match &key.material {
            KeyMaterial::Pkix {
                algorithm_name,
                algorithm,
                key: pkix,
            } => match &occurrence.payload {
                None => Err(Failure::Malformed(
                    "the occurrence has no serializedPayload".into(),
                )),
                Some(payload) => {
                    verify::verify_pkix(pkix, algorithm, algorithm_name, payload, &signature.bytes)
                        .map(|()| Verified::Pkix)
                }
            },
            KeyMaterial::Pgp(pgp) => pgp
                .verify(&signature.bytes, occurrence.payload.as_deref())
                .map(|v| Verified::Pgp(Arc::new(v))),
        })
        .clone()
    }
}

/// The attestor keys a signature may be checked with.
fn candidate_keys<'a>(
    attestor: &'a Attestor,
    signature: &OccurrenceSignature,
) -> Result<Vec<&'a AttestorKey>, String> {
    if signature.legacy_pgp {
        let pgp_keys = attestor
            .keys
            .iter()
            .filter(|k| matches!(k.material, KeyMaterial::Pgp(_)));
        let keys: Vec<&AttestorKey> = match &signature.key_id {
            None => pgp_keys.collect(),
            Some(id) => pgp_keys
                .filter(|k| match &k.material {
                    KeyMaterial::Pgp(pgp) => pgp.matches_legacy_id(id),
                    KeyMaterial::Pkix { .. } => false,
                })
                .collect(),
        };
        if keys.is_empty() {
            return Err(match &signature.key_id {
                Some(id) => format!("PGP key id {id} is not a key of this attestor"),
                None => "the attestor has no PGP key for this PGP-signed attestation".into(),
            });
        }
        return Ok(keys);
    }
    let Some(id) = &signature.key_id else {
        return Err("a signature has no publicKeyId".into());
    };
    if let Some(key) = attestor.keys.iter().find(|k| &k.id == id) {
        return Ok(vec![key]);
    }
    let hint = attestor
        .keys
        .iter()
        .find(|k| k.declared_id.as_ref() == Some(id))
        .map(|k| {
            format!(
                " (the server replaces a PGP key's id by its fingerprint {})",
                k.id
            )
        })
        .unwrap_or_default();
    Err(format!("key id {id} is not a key of this attestor{hint}"))
}

fn base64_field(node: &Node, key: &str, file: &str) -> Result<Option<Vec<u8>>, AttestInputError> {
    match opt_str(node, key, file)? {
        None => Ok(None),
        Some((text, value)) => decode_base64(text).map(Some).map_err(|e| {
            AttestInputError::new(
                file,
                value.line,
                value.column,
                format!("`{key}` is not base64: {e}"),
            )
        }),
    }
}

type ParsedOccurrence = (Occurrence, Option<String>);

/// One occurrence and the digest it is for; `None` for other occurrence kinds.
fn parse_occurrence(node: &Node, file: &str) -> Result<Option<ParsedOccurrence>, AttestInputError> {
    if let Some((kind, _)) = opt_str(node, "kind", file)?
        && kind != "ATTESTATION"
    {
        return Ok(None);
    }
    let name = match opt_str(node, "name", file)? {
        Some((name, _)) => name.to_string(),
        None => format!("at {file}:{}", node.line),
    };
    let context = format!("occurrence {name}");
    let (note_name, _) = req_str(node, "noteName", file, &context)?;
    let uri = match opt_str(node, "resourceUri", file)? {
        Some((uri, _)) => uri,
        None => {
            let resource = opt_map(node, "resource", file)?;
            match resource
                .map(|r| opt_str(r, "uri", file))
                .transpose()?
                .flatten()
            {
                Some((uri, _)) => uri,
                None => {
                    return Err(AttestInputError::new(
                        file,
                        node.line,
                        node.column,
                        format!("{context}: missing `resourceUri`"),
                    ));
                }
            }
        }
    };
    let digest = resource_uri_digest(uri).map(str::to_string);

    let attestation = opt_map(node, "attestation", file)?.ok_or_else(|| {
        AttestInputError::new(
            file,
            node.line,
            node.column,
            format!("{context}: missing `attestation`"),
        )
    })?;
    // v1beta1 nests the attestation once more: attestation.attestation.{pgp,generic}...
    let inner = opt_map(attestation, "attestation", file)?.unwrap_or(attestation);

    let mut occurrence = Occurrence {
        name,
        note_name: note_name.trim().to_string(),
        payload: None,
        signatures: Vec::new(),
        jwts: 0,
    };
    if let Some(pgp) = opt_map(inner, "pgpSignedAttestation", file)? {
        let (text, value) = req_str(pgp, "signature", file, &context)?;
        let bytes = if text.contains("-----BEGIN PGP") {
            text.as_bytes().to_vec()
        } else {
            decode_base64(text).map_err(|e| {
                AttestInputError::new(
                    file,
                    value.line,
                    value.column,
                    format!("{context}: `signature` is neither ASCII-armored nor base64: {e}"),
                )
            })?
        };
        occurrence.signatures.push(OccurrenceSignature {
            key_id: opt_str(pgp, "pgpKeyId", file)?.map(|(id, _)| id.trim().to_string()),
            bytes,
            legacy_pgp: true,
        });
        return Ok(Some((occurrence, digest)));
    }
    let signed = opt_map(inner, "genericSignedAttestation", file)?.unwrap_or(inner);
    occurrence.payload = base64_field(signed, "serializedPayload", file)?;
    for signature in opt_list(signed, "signatures", file)? {
        let bytes = base64_field(signature, "signature", file)?.unwrap_or_default();
        occurrence.signatures.push(OccurrenceSignature {
            key_id: opt_str(signature, "publicKeyId", file)?.map(|(id, _)| id.trim().to_string()),
            bytes,
            legacy_pgp: false,
        });
    }
    occurrence.jwts = opt_list(signed, "jwts", file)?.len();
    Ok(Some((occurrence, digest)))
}

// ---------------------------------------------------------------------------------------
// Files

/// The files to read for a path and the label each is reported under.
fn input_files(path: &Path) -> Result<Vec<(PathBuf, String)>, AttestInputError> {
    let label = path.display().to_string();
    let metadata = std::fs::metadata(path)
        .map_err(|e| AttestInputError::new(&label, 0, 0, format!("cannot read: {e}")))?;
    if !metadata.is_dir() {
        return Ok(vec![(path.to_path_buf(), label)]);
    }
    let entries = std::fs::read_dir(path)
        .map_err(|e| AttestInputError::new(&label, 0, 0, format!("cannot list folder: {e}")))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry
            .map_err(|e| AttestInputError::new(&label, 0, 0, format!("cannot list folder: {e}")))?;
        let file = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let wanted = !name.starts_with('.')
            && file.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                matches!(e.to_ascii_lowercase().as_str(), "json" | "yaml" | "yml")
            })
            && file.is_file();
        if wanted {
            files.push(file);
        }
    }
    files.sort();
    Ok(files
        .into_iter()
        .map(|f| {
            let label = f.display().to_string();
            (f, label)
        })
        .collect())
}

fn read_text(file: &Path, label: &str) -> Result<String, AttestInputError> {
    let bytes = std::fs::read(file)
        .map_err(|e| AttestInputError::new(label, 0, 0, format!("cannot read: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|e| AttestInputError::new(label, 0, 0, format!("not UTF-8 text: {e}")))
}
