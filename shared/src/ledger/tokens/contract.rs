//! The behaviour every [`RefreshTokenStore`] adapter must have (in memory, SQLite, Secrets
//! Manager on moto), given a store that holds `initial`.

use super::RefreshTokenStore;
use crate::secret::SecretString;

/// Runs every check against `store`, which holds `initial`.
pub async fn run_all(store: &dyn RefreshTokenStore, initial: &str) {
    assert_eq!(store.load().await.unwrap().expose(), initial);

    store.save(&SecretString::new("rotated-1")).await.unwrap();
    assert_eq!(
        store.load().await.unwrap().expose(),
        "rotated-1",
        "the newest wins"
    );
    store.save(&SecretString::new("rotated-2")).await.unwrap();
    store.save(&SecretString::new("rotated-2")).await.unwrap();
    assert_eq!(
        store.load().await.unwrap().expose(),
        "rotated-2",
        "saving the same token again is harmless"
    );
}
