//! Content-addressed blob storage: bundle files today, uploads and compiled
//! models later.
//!
//! A blob's key is the SHA-256 of its bytes (`sha256/ab/abcdef…`), so writing
//! the same content twice is harmless and a database row that names a hash
//! always finds the same bytes. The default backend is a local folder under
//! `--data-dir` (object_store writes to a temporary file and renames it, so a
//! crash never leaves half a blob under its final name); S3-compatible stores
//! plug in through the same `ObjectStore` trait.

use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::ObjectStore;
use object_store::local::LocalFileSystem;
use object_store::path::Path as StorePath;
use sha2::{Digest, Sha256};

/// A handle on the blob store; cheap to clone.
#[derive(Debug, Clone)]
pub struct Blobs {
    store: Arc<dyn ObjectStore>,
}

/// The hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

fn key(hash: &str) -> StorePath {
    StorePath::from(format!("sha256/{}/{hash}", &hash[..2]))
}

impl Blobs {
    /// A store in a local folder, created if needed.
    pub fn local(dir: &std::path::Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(dir).with_context(|| format!("creating blob folder {}", dir.display()))?;
        let store = LocalFileSystem::new_with_prefix(dir)?.with_automatic_cleanup(true);
        Ok(Self { store: Arc::new(store) })
    }

    /// Stores `bytes` and returns their hash.
    pub async fn put(&self, bytes: Bytes) -> anyhow::Result<String> {
        let hash = sha256_hex(&bytes);
        let key = key(&hash);
        if self.store.head(&key).await.is_err() {
            self.store.put(&key, bytes.into()).await.context("writing blob")?;
        }
        Ok(hash)
    }

    /// The whole content of a blob.
    pub async fn get(&self, hash: &str) -> anyhow::Result<Bytes> {
        Ok(self.store.get(&key(hash)).await?.bytes().await?)
    }

    /// The content of a blob as a stream of chunks, for downloads.
    pub async fn stream(&self, hash: &str) -> anyhow::Result<BoxStream<'static, std::io::Result<Bytes>>> {
        let result = self.store.get(&key(hash)).await?;
        Ok(result.into_stream().map_err(std::io::Error::other).boxed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_stored_under_their_hash() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = Blobs::local(dir.path()).unwrap();
        let hash = blobs.put(Bytes::from_static(b"hello")).await.unwrap();
        assert_eq!(hash, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
        assert_eq!(blobs.put(Bytes::from_static(b"hello")).await.unwrap(), hash);
        assert_eq!(&blobs.get(&hash).await.unwrap()[..], b"hello");
        assert!(dir.path().join("sha256/2c").join(&hash).is_file());
    }
}
