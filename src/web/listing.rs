//! The datasets the web pages show: one card per catalogued dataset, with its extent
//! from the STAC item index, built once per catalog generation. `visible_cards` is the
//! one place the pages get their list from, so a per-user filter applies there.

use std::sync::Arc;

use tokio::sync::Mutex;

use super::search::Card;
use crate::app::AppState;
use crate::auth::Principal;
use crate::catalog::Dataset;
use crate::stac::{DEFAULT_COLLECTION, ItemIndex};

/// Cards of the catalog as it was at a generation.
#[derive(Default)]
pub struct Listing {
    built: Mutex<Option<(u64, Arc<Vec<Card>>)>>,
}

impl Listing {
    /// Every dataset's card (rebuilt when the catalog changes).
    async fn all(&self, state: &AppState) -> Arc<Vec<Card>> {
        let generation = state.catalog.generation();
        let mut built = self.built.lock().await;
        if let Some((g, cards)) = built.as_ref()
            && *g == generation
        {
            return cards.clone();
        }
        let cards = Arc::new(build(state).await);
        *built = Some((generation, cards.clone()));
        cards
    }
}

/// The datasets this request may see, in id order: every page lists datasets through
/// here (access control filters this list, and only this one).
pub async fn visible_cards(listing: &Listing, state: &AppState, viewer: &Principal) -> Vec<Card> {
    let all = listing.all(state).await;
    // A card in a collection the viewer may not see is hidden with it (as STAC hides
    // the items of a hidden collection).
    all.iter()
        .filter(|c| {
            state.visible(viewer, &c.id)
                && (c.collection == DEFAULT_COLLECTION || state.visible(viewer, &c.collection))
        })
        .cloned()
        .collect()
}

async fn build(state: &AppState) -> Vec<Card> {
    let index = ItemIndex::build(&state.catalog).await;
    let mut cards = Vec::new();
    for id in state.catalog.entries().keys() {
        let ds = match state.catalog.open(id).await {
            Ok(ds) => ds,
            Err(e) => {
                tracing::warn!("web listing: {e}");
                continue;
            }
        };
        let mut card = card(&ds);
        if let Some(item) = index.items.iter().find(|i| &i.id == id) {
            card.collection = item.collection.clone();
            card.bbox = item.bbox.map(|b| b.to_array());
            card.start = item.start.map(|t| t.to_iso());
            card.end = item.end.map(|t| t.to_iso());
            card.geometry = item.geometry.clone();
        } else if let Some(c) = index.collections.iter().find(|c| &c.id == id) {
            // An aggregation is its own collection.
            card.collection = c.id.clone();
            card.bbox = c.bbox.map(|b| b.to_array());
            card.start = c.start.map(|t| t.to_iso());
            card.end = c.end.map(|t| t.to_iso());
        }
        cards.push(card);
    }
    cards
}

/// A dataset's card without its extent.
pub fn card(ds: &Dataset) -> Card {
    let meta = &ds.meta;
    let global = |name: &str| {
        meta.attributes()
            .iter()
            .find(|a| a.name == name)
            .and_then(|a| a.value.as_text())
    };
    let mut text = format!("{} {}", ds.id, ds.title);
    for a in meta.attributes() {
        if let Some(t) = a.value.as_text() {
            text.push(' ');
            text.push_str(&t);
        }
    }
    let vars = meta.variables();
    for v in &vars {
        text.push(' ');
        text.push_str(&v.name);
        for a in &v.attributes {
            if let Some(t) = a.value.as_text() {
                text.push(' ');
                text.push_str(&t);
            }
        }
    }
    let feature_type = global("featureType")
        .map(|f| f.trim().to_lowercase())
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "grid".to_string());
    Card {
        id: ds.id.clone(),
        title: ds.title.clone(),
        summary: global("summary")
            .or_else(|| global("comment"))
            .unwrap_or_default(),
        collection: DEFAULT_COLLECTION.to_string(),
        format: ds.format().name().to_string(),
        feature_type,
        variables: vars
            .iter()
            .filter(|v| !v.is_coordinate_variable())
            .map(|v| v.name.clone())
            .collect(),
        bbox: None,
        start: None,
        end: None,
        geometry: None,
        text: text.to_lowercase(),
    }
}
