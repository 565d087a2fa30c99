//! Data keys wrapped by a local key file (`serve`'s embedded store): 32 random bytes, created
//! on first use, readable and writable by its owner only.

use std::path::{Path, PathBuf};

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};

use super::{DATA_KEY_BYTES, DataKey, DataKeys, SealError, random_bytes};

/// What binds a wrapped data key to its purpose.
const WRAP_CONTEXT: &[u8] = b"paybridge data key v1";

/// The key file adapter.
pub struct FileDataKeys {
    path: PathBuf,
    master: LessSafeKey,
}

impl std::fmt::Debug for FileDataKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileDataKeys")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FileDataKeys {
    /// Opens the key file at `path`, creating it (mode 0600) if it does not exist. A file of
    /// the wrong size, or one others may read, is refused: it says so and where.
    pub fn open_or_create(path: &Path) -> Result<Self, SealError> {
        let fail = |what: String| SealError::Keys(format!("{}: {what}", path.display()));
        let bytes = match std::fs::read(path) {
            Ok(bytes) => {
                check_private(path).map_err(fail)?;
                bytes
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let bytes = random_bytes(DATA_KEY_BYTES)?;
                write_private(path, &bytes).map_err(|e| fail(e.to_string()))?;
                tracing::info!(path = %path.display(), "created the key file that seals stored event payloads");
                bytes
            }
            Err(error) => return Err(fail(error.to_string())),
        };
        let master = UnboundKey::new(&AES_256_GCM, &bytes)
            .map(LessSafeKey::new)
            .map_err(|_| {
                fail(format!(
                    "a key file holds exactly {DATA_KEY_BYTES} bytes; restore it from a backup (without it, stored payloads cannot be read)"
                ))
            })?;
        Ok(Self {
            path: path.to_path_buf(),
            master,
        })
    }
}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    // The directory entry too: a power cut must not keep the sealed rows and lose their key.
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(directory) => std::fs::File::open(directory)?.sync_all(),
        None => Ok(()),
    }
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}

#[cfg(unix)]
fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path)
        .map_err(|e| e.to_string())?
        .permissions()
        .mode();
    if mode & 0o077 == 0 {
        Ok(())
    } else {
        Err(format!(
            "others may read this key file (mode {:o}): chmod 600 it",
            mode & 0o777
        ))
    }
}

#[cfg(not(unix))]
fn check_private(_path: &Path) -> Result<(), String> {
    Ok(())
}

#[async_trait::async_trait]
impl DataKeys for FileDataKeys {
    async fn generate(&self) -> Result<DataKey, SealError> {
        let plaintext = random_bytes(DATA_KEY_BYTES)?;
        let nonce = random_bytes(NONCE_LEN)?;
        let mut sealed = plaintext.clone();
        let once = Nonce::try_assume_unique_for_key(&nonce)
            .map_err(|_| SealError::Keys("bad nonce".into()))?;
        self.master
            .seal_in_place_append_tag(once, Aad::from(WRAP_CONTEXT), &mut sealed)
            .map_err(|_| SealError::Keys("AES-GCM refused to wrap".into()))?;
        let mut wrapped = nonce;
        wrapped.extend_from_slice(&sealed);
        Ok(DataKey { plaintext, wrapped })
    }

    async fn unwrap(&self, wrapped: &[u8]) -> Result<Vec<u8>, SealError> {
        let unusable = || {
            SealError::Corrupt(format!(
                "a data key was not wrapped by {} (another store's key file?)",
                self.path.display()
            ))
        };
        if wrapped.len() <= NONCE_LEN {
            return Err(unusable());
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| unusable())?;
        let mut sealed = sealed.to_vec();
        self.master
            .open_in_place(nonce, Aad::from(WRAP_CONTEXT), &mut sealed)
            .map(|plain| plain.to_vec())
            .map_err(|_| unusable())
    }
}
