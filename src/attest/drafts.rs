//! Attestors defined by a policy source (Terraform `google_binary_authorization_attestor`,
//! Config Connector `BinaryAuthorizationAttestor`), checked and verified exactly like
//! `--attestors` input (contract §13): each draft becomes the positioned tree of the gcloud
//! `attestors describe` shape, located in the source file, and goes through the same parser.

use super::AttestInputError;
use super::model::AttestorSet;
use super::tree::{Entry, Node, Value};

/// One public key as a source writes it.
#[derive(Clone, Debug, Default)]
pub struct DraftKey {
    pub line: u32,
    pub column: u32,
    pub id: Option<String>,
    pub comment: Option<String>,
    pub pgp: Option<String>,
    /// `(publicKeyPem, signatureAlgorithm)`.
    pub pkix: Option<(String, String)>,
}

/// One attestor as a source defines it.
#[derive(Clone, Debug, Default)]
pub struct AttestorDraft {
    /// `projects/P/attestors/NAME`.
    pub name: String,
    pub description: Option<String>,
    pub note_reference: String,
    pub keys: Vec<DraftKey>,
    pub line: u32,
    pub column: u32,
}

/// The attestors of one source, with the file each is written in.
#[derive(Clone, Debug, Default)]
pub struct AttestorDefinitions {
    items: Vec<(String, AttestorDraft)>,
}

impl AttestorDefinitions {
    pub fn push(&mut self, file: &str, draft: AttestorDraft) {
        self.items.push((file.to_string(), draft));
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }
}

fn scalar(line: u32, column: u32, text: &str) -> Node {
    Node {
        line,
        column,
        value: Value::Scalar(text.to_string()),
    }
}

fn entry(key: &str, value: Node) -> Entry {
    Entry {
        key: key.to_string(),
        value,
    }
}

fn to_node(d: &AttestorDraft) -> Node {
    let (l, c) = (d.line, d.column);
    let keys = d
        .keys
        .iter()
        .map(|k| {
            let (kl, kc) = (k.line, k.column);
            let mut fields = Vec::new();
            if let Some(id) = &k.id {
                fields.push(entry("id", scalar(kl, kc, id)));
            }
            if let Some(comment) = &k.comment {
                fields.push(entry("comment", scalar(kl, kc, comment)));
            }
            if let Some(pgp) = &k.pgp {
                fields.push(entry("asciiArmoredPgpPublicKey", scalar(kl, kc, pgp)));
            }
            if let Some((pem, algorithm)) = &k.pkix {
                let pkix = Node {
                    line: kl,
                    column: kc,
                    value: Value::Map(vec![
                        entry("publicKeyPem", scalar(kl, kc, pem)),
                        entry("signatureAlgorithm", scalar(kl, kc, algorithm)),
                    ]),
                };
                fields.push(entry("pkixPublicKey", pkix));
            }
            Node {
                line: kl,
                column: kc,
                value: Value::Map(fields),
            }
        })
        .collect();
    let note = Node {
        line: l,
        column: c,
        value: Value::Map(vec![
            entry("noteReference", scalar(l, c, &d.note_reference)),
            entry(
                "publicKeys",
                Node {
                    line: l,
                    column: c,
                    value: Value::Seq(keys),
                },
            ),
        ]),
    };
    let mut fields = vec![entry("name", scalar(l, c, &d.name))];
    if let Some(description) = &d.description {
        fields.push(entry("description", scalar(l, c, description)));
    }
    fields.push(entry("userOwnedGrafeasNote", note));
    Node {
        line: l,
        column: c,
        value: Value::Map(fields),
    }
}

impl AttestorSet {
    /// Add a source's attestors. An attestor already in the set (given with `--attestors`
    /// too) keeps the given definition; a malformed key is an error at its line.
    pub fn add_definitions(&mut self, defs: &AttestorDefinitions) -> Result<(), AttestInputError> {
        for (file, draft) in &defs.items {
            if self.get(&draft.name).is_some() {
                continue;
            }
            self.add_node(&to_node(draft), file)?;
        }
        Ok(())
    }
}
