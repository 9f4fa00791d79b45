//! The organizations the emulator holds, and the state file that keeps them across restarts.
//!
//! Writers take one asynchronous lock for the whole of check, persist and apply, so two
//! simultaneous creates of the same name cannot both pass the duplicate check, and the state
//! file always matches what clients were told. Readers take a short synchronous lock and never
//! wait for the disk.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use vbo_model::{Dialect, RestApiVersion};
use vbo_model::{Organization, OrganizationBody, OrganizationState, OrganizationType, Secret};

use crate::EmulatorError;
use crate::validate::reported_username;

/// An organization as the emulator keeps it: its id, its name and the body it was created with
/// or last replaced with, secrets included.
///
/// Secrets are kept so that a test can check what a client sent; no endpoint ever returns
/// them, and `Debug` shows them as `Secret(<redacted>)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredOrganization {
    /// Identifier assigned at creation, a lower-case GUID.
    pub id: String,
    /// The organization's name: the body's `name`, or for Office365 the tenant's domain.
    pub name: String,
    /// The body as the server understood it, after case-insensitive reading.
    pub body: OrganizationBody<Secret>,
}

impl StoredOrganization {
    /// What the server reports about the organization's configuration.
    pub fn state(&self) -> OrganizationState {
        self.body.state()
    }

    /// The representation `GET /v3/Organizations` returns, with links under `base_url` (for
    /// example `https://127.0.0.1:4443`). It carries no secrets.
    pub fn to_wire(&self, base_url: &str) -> Organization {
        let href = |suffix: &str| serde_json::json!({"href": format!("{base_url}/v3/organizations/{}{suffix}", self.id)});
        let links = [
            ("self", ""),
            ("jobs", "/jobs"),
            ("groups", "/groups"),
            ("users", "/users"),
            ("sites", "/sites"),
        ]
        .into_iter()
        .map(|(name, suffix)| (name.to_owned(), href(suffix)))
        .collect();
        self.with_links(links)
    }

    /// The v3 representation with `links` as its `_links`.
    fn with_links(&self, links: serde_json::Map<String, Value>) -> Organization {
        Organization {
            id: self.id.clone(),
            name: self.name.clone(),
            state: self.state(),
            msid: None,
            office_name: None,
            backed_up_organization_id: None,
            username: reported_username(&self.body),
            is_backed_up: Some(false),
            first_backup_time: None,
            last_backup_time: None,
            links: Some(links),
            actions: Some(serde_json::Map::new()),
        }
    }

    /// The representation in the dialect of one API version: v3's as [`to_wire`](Self::to_wire)
    /// gives it; from v6 on, links relative to the server (`/v8/Organizations/{id}`), the
    /// version's spellings and region names, no backup times unless asked (`extendedView`),
    /// no certificate (the file is write-only), and from v8 the tenant's `msid`.
    pub fn representation(&self, dialect: &Dialect, base_url: &str) -> Value {
        let mut organization = if dialect.version == RestApiVersion::V3 {
            self.to_wire(base_url)
        } else {
            let prefix = dialect.prefix;
            let href = |suffix: &str| serde_json::json!({"href": format!("/{prefix}/Organizations/{}{suffix}", self.id)});
            let links = [
                ("self", ""),
                ("users", "/Users"),
                ("groups", "/Groups"),
                ("sites", "/Sites"),
            ]
            .into_iter()
            .map(|(name, suffix)| (name.to_owned(), href(suffix)))
            .collect();
            let mut organization = self.with_links(links);
            organization.is_backed_up = None;
            organization
        };
        dialect.forget_write_only(&mut organization);
        if dialect.version >= RestApiVersion::V8 && self.body.kind != OrganizationType::OnPremises {
            organization.msid = Some(tenant_id(&self.name));
        }
        let mut value = serde_json::to_value(&organization).unwrap_or(Value::Null);
        dialect.drop_unsupported(self.body.kind, &mut value);
        dialect.to_wire(&mut value);
        value
    }
}

/// A stable stand-in for a tenant's Microsoft id, derived from the organization's name, so
/// that the same organization reports the same `msid` across restarts.
pub(crate) fn tenant_id(name: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(name.to_lowercase().as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    uuid::Builder::from_random_bytes(bytes)
        .into_uuid()
        .to_string()
}

/// Why a change was refused.
#[derive(Debug)]
pub(crate) enum StoreError {
    /// No organization has this id.
    NotFound,
    /// Another organization already has this name (ignoring case).
    Duplicate { name: String },
    /// A replacement tried to change the organization's type.
    TypeChange {
        from: OrganizationType,
        to: OrganizationType,
    },
    /// The change could not be written to the state file, so it was not made.
    Persist(EmulatorError),
}

/// The file format: a version and the organizations in creation order.
#[derive(Serialize, Deserialize)]
struct StateFile<T> {
    version: u32,
    organizations: Vec<T>,
}

const STATE_VERSION: u32 = 1;

#[derive(Default)]
struct Data {
    /// By lower-case id, in creation order.
    organizations: IndexMap<String, StoredOrganization>,
    /// Lower-case name to lower-case id.
    names: HashMap<String, String>,
    /// Changes so far: the list's version, which a page's `setId` names.
    generation: u64,
}

impl Data {
    fn insert(&mut self, organization: StoredOrganization) {
        self.generation += 1;
        self.names
            .insert(organization.name.to_lowercase(), organization.id.clone());
        self.organizations
            .insert(organization.id.clone(), organization);
    }

    /// Replaces in place, keeping the creation order.
    fn replace(&mut self, organization: StoredOrganization) {
        let Some(slot) = self.organizations.get_mut(&organization.id) else {
            return self.insert(organization);
        };
        self.generation += 1;
        self.names.remove(&slot.name.to_lowercase());
        self.names
            .insert(organization.name.to_lowercase(), organization.id.clone());
        *slot = organization;
    }

    fn remove(&mut self, id: &str) -> Option<StoredOrganization> {
        let removed = self.organizations.shift_remove(id)?;
        self.generation += 1;
        self.names.remove(&removed.name.to_lowercase());
        Some(removed)
    }

    /// The id of the organization called `name` (ignoring case), if any.
    fn id_named(&self, name: &str) -> Option<&str> {
        self.names.get(&name.to_lowercase()).map(String::as_str)
    }
}

/// One decided change, checked but not yet applied.
enum Edit {
    Insert(StoredOrganization),
    Replace(StoredOrganization),
    Remove(String),
}

pub(crate) struct Store {
    /// Tells this store's set ids from another's.
    instance: u64,
    data: Mutex<Data>,
    writer: tokio::sync::Mutex<()>,
    file: Option<PathBuf>,
}

impl Store {
    /// An empty store, or the one `file` holds when it exists.
    pub(crate) fn open(file: Option<PathBuf>) -> Result<Self, EmulatorError> {
        let mut data = Data::default();
        if let Some(path) = &file {
            for organization in load(path)? {
                let id_taken = data.organizations.contains_key(&organization.id);
                if id_taken || data.id_named(&organization.name).is_some() {
                    return Err(EmulatorError::DuplicateInState {
                        path: path.clone(),
                        name: organization.name,
                    });
                }
                data.insert(organization);
            }
        }
        Ok(Self {
            instance: uuid::Uuid::new_v4().as_u64_pair().0,
            data: Mutex::new(data),
            writer: tokio::sync::Mutex::new(()),
            file,
        })
    }

    fn data(&self) -> MutexGuard<'_, Data> {
        self.data.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every organization, in creation order.
    pub(crate) fn list(&self) -> Vec<StoredOrganization> {
        self.data().organizations.values().cloned().collect()
    }

    /// The organizations at `positions` (clamped to those there are), in creation order; how
    /// many there are in all; and the id of this state of the list: a page's `setId`, which
    /// changes with every change. Only the organizations asked for are copied, so reading a
    /// long list page by page costs time in proportion to its length, not to its square.
    pub(crate) fn snapshot(
        &self,
        positions: std::ops::Range<usize>,
    ) -> (Vec<StoredOrganization>, usize, String) {
        let data = self.data();
        let total = data.organizations.len();
        let start = positions.start.min(total);
        let end = positions.end.clamp(start, total);
        let organizations = data.organizations[start..end].values().cloned().collect();
        let set_id = uuid::Uuid::from_u64_pair(self.instance, data.generation).to_string();
        (organizations, total, set_id)
    }

    /// The organization with this id (any case).
    pub(crate) fn get(&self, id: &str) -> Option<StoredOrganization> {
        self.data()
            .organizations
            .get(&id.to_ascii_lowercase())
            .cloned()
    }

    /// Adds an organization called `name`, unless the name is taken.
    pub(crate) async fn create(
        &self,
        name: String,
        body: OrganizationBody<Secret>,
    ) -> Result<StoredOrganization, StoreError> {
        let organization = StoredOrganization {
            id: uuid::Uuid::new_v4().to_string(),
            name,
            body,
        };
        self.change(|data| {
            if data.id_named(&organization.name).is_some() {
                return Err(StoreError::Duplicate {
                    name: organization.name.clone(),
                });
            }
            Ok(Edit::Insert(organization.clone()))
        })
        .await?;
        Ok(organization)
    }

    /// Replaces the organization with this id by `body`, now called `name`.
    pub(crate) async fn replace(
        &self,
        id: &str,
        name: String,
        body: OrganizationBody<Secret>,
    ) -> Result<StoredOrganization, StoreError> {
        let id = id.to_ascii_lowercase();
        let mut replaced = None;
        self.change(|data| {
            let current = data.organizations.get(&id).ok_or(StoreError::NotFound)?;
            if current.body.kind != body.kind {
                return Err(StoreError::TypeChange {
                    from: current.body.kind,
                    to: body.kind,
                });
            }
            if data.id_named(&name).is_some_and(|other| other != id) {
                return Err(StoreError::Duplicate { name: name.clone() });
            }
            let organization = StoredOrganization {
                id: id.clone(),
                name: name.clone(),
                body: body.clone(),
            };
            replaced = Some(organization.clone());
            Ok(Edit::Replace(organization))
        })
        .await?;
        replaced.ok_or(StoreError::NotFound)
    }

    /// Removes the organization with this id.
    pub(crate) async fn delete(&self, id: &str) -> Result<(), StoreError> {
        let id = id.to_ascii_lowercase();
        self.change(|data| {
            if data.organizations.contains_key(&id) {
                Ok(Edit::Remove(id.clone()))
            } else {
                Err(StoreError::NotFound)
            }
        })
        .await
    }

    /// Adds the organizations whose names are free, persisting once; returns how many were
    /// added.
    pub(crate) async fn seed(
        &self,
        organizations: Vec<(String, OrganizationBody<Secret>)>,
    ) -> Result<usize, EmulatorError> {
        let _writer = self.writer.lock().await;
        let mut data = std::mem::take(&mut *self.data());
        let mut added = 0;
        for (name, body) in organizations {
            if data.id_named(&name).is_none() {
                data.insert(StoredOrganization {
                    id: uuid::Uuid::new_v4().to_string(),
                    name,
                    body,
                });
                added += 1;
            }
        }
        let persisted = match (&self.file, added) {
            (Some(path), 1..) => persist(path.clone(), serialize(&data, None)).await,
            _ => Ok(()),
        };
        *self.data() = data;
        persisted.map(|()| added)
    }

    /// Decides a change under the writer lock, writes the resulting state to the file (if
    /// any), and only then makes it visible.
    async fn change(
        &self,
        decide: impl FnOnce(&Data) -> Result<Edit, StoreError>,
    ) -> Result<(), StoreError> {
        let _writer = self.writer.lock().await;
        let (edit, bytes) = {
            let data = self.data();
            let edit = decide(&data)?;
            let bytes = self.file.as_ref().map(|_| serialize(&data, Some(&edit)));
            (edit, bytes)
        };
        if let (Some(path), Some(bytes)) = (&self.file, bytes) {
            persist(path.clone(), bytes)
                .await
                .map_err(StoreError::Persist)?;
        }
        let mut data = self.data();
        match edit {
            Edit::Insert(organization) => data.insert(organization),
            Edit::Replace(organization) => data.replace(organization),
            Edit::Remove(id) => {
                data.remove(&id);
            }
        }
        Ok(())
    }
}

/// The state file's bytes for `data` with `edit` applied.
fn serialize(data: &Data, edit: Option<&Edit>) -> Vec<u8> {
    let mut organizations: Vec<&StoredOrganization> =
        Vec::with_capacity(data.organizations.len() + 1);
    for organization in data.organizations.values() {
        match edit {
            Some(Edit::Replace(new)) if new.id == organization.id => organizations.push(new),
            Some(Edit::Remove(id)) if *id == organization.id => {}
            _ => organizations.push(organization),
        }
    }
    if let Some(Edit::Insert(new)) = edit {
        organizations.push(new);
    }
    let file = StateFile {
        version: STATE_VERSION,
        organizations,
    };
    // Serializing plain data (strings, booleans, numbers) to a Vec cannot fail.
    serde_json::to_vec_pretty(&file).unwrap_or_default()
}

fn load(path: &Path) -> Result<Vec<StoredOrganization>, EmulatorError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => {
            return Err(EmulatorError::ReadState {
                path: path.to_owned(),
                source,
            });
        }
    };
    // serde_json's messages can quote values, and this file holds passwords: report the
    // position only.
    let file: StateFile<StoredOrganization> =
        serde_json::from_slice(&bytes).map_err(|error| EmulatorError::ParseState {
            path: path.to_owned(),
            line: error.line(),
            column: error.column(),
        })?;
    if file.version != STATE_VERSION {
        return Err(EmulatorError::ParseState {
            path: path.to_owned(),
            line: 1,
            column: 1,
        });
    }
    Ok(file.organizations)
}

async fn persist(path: PathBuf, bytes: Vec<u8>) -> Result<(), EmulatorError> {
    let target = path.clone();
    tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
        .await
        .unwrap_or_else(|join| Err(std::io::Error::other(join)))
        .map_err(|source| EmulatorError::WriteState { path, source })
}

/// Writes `bytes` to a new file beside `path` (mode 0600), flushes it to disk, and renames it
/// over `path`, so that a crash leaves either the old state or the new one, never half of one.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".vbo-emulator-state.").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o600));
    }
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|error| error.error)?;
    #[cfg(unix)]
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}
