//! Indexes other modules derive from the whole catalog (the STAC item index...), kept
//! until the catalog changes.

use std::any::{Any, TypeId};
use std::sync::Arc;

use super::Catalog;

impl Catalog {
    /// An index derived from the whole catalog, built by `build` and kept until the
    /// catalog changes (one slot per type).
    pub async fn derived<T, F, Fut>(&self, build: F) -> Arc<T>
    where
        T: Any + Send + Sync,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = T>,
    {
        let generation = self.generation();
        let slot = self
            .derived
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&TypeId::of::<T>())
            .filter(|(g, _)| *g == generation)
            .map(|(_, v)| v.clone());
        if let Some(v) = slot.and_then(|v| v.downcast::<T>().ok()) {
            return v;
        }
        let built = Arc::new(build().await);
        self.derived
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(TypeId::of::<T>(), (generation, built.clone()));
        built
    }
}
