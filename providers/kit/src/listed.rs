//! Reading many objects of a kind from the kind's list: a plan that refreshes many
//! objects of a kind an API lists asks for the list once (a request a page) and answers
//! each read from it, instead of one request per object. See
//! `infra_runtime::provider::Provider::expect_reads`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::Value as Json;

/// From how many objects of a kind a plan reads them from the kind's list: a list is
/// paged by a few hundred, so one request for fewer objects than that in most accounts,
/// while a few objects in a large account are cheaper read one by one.
pub const LIST_FROM: usize = 8;

/// One kind's list, fetched by the first read that needs it, by id.
type Listed = Arc<tokio::sync::OnceCell<HashMap<String, Json>>>;

/// The kinds a plan reads from their lists.
#[derive(Debug, Default)]
pub struct ListedReads {
    kinds: Mutex<HashMap<String, Listed>>,
}

impl ListedReads {
    /// A plan will read `count` objects of `kind` (a kind the API lists): from
    /// [`LIST_FROM`] on, its reads are answered from the list.
    pub fn expect(&self, kind: &str, count: usize) {
        if count >= LIST_FROM {
            self.lock().insert(kind.to_string(), Listed::default());
        }
    }

    /// Forgets the list of `kind`, which was just changed.
    pub fn forget(&self, kind: &str) {
        self.lock().remove(kind);
    }

    /// The item of `kind` whose `id_field` is `id`, when the plan reads `kind` from its
    /// list and the list has it. `fetch` lists every item (every page); it runs once for
    /// all reads of the kind. `None` (read the object by itself) when the kind is not
    /// read from its list, the list cannot be read, or the object is not in it: a
    /// deleted object is then told from a new one by its own read.
    pub async fn item<F, Fut, E>(&self, kind: &str, id_field: &str, id: &str, fetch: F) -> Option<Json>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Vec<Json>, E>>,
    {
        let listed = self.lock().get(kind).cloned()?;
        let by_id = |items: Vec<Json>| items.into_iter().map(|item| (id_text(&item[id_field]), item)).collect();
        let items = listed.get_or_try_init(|| async { fetch().await.map(by_id) }).await.ok()?;
        items.get(id).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Listed>> {
        self.kinds.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A JSON id, a number or a string, as the text a state keeps.
fn id_text(value: &Json) -> String {
    value.as_str().map_or_else(|| value.to_string(), str::to_string)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(listed: &ListedReads, kind: &str, id: &str, fetches: &Mutex<usize>) -> Option<Json> {
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
        runtime.block_on(listed.item(kind, "id", id, || async {
            *fetches.lock().expect("count") += 1;
            Ok::<_, ()>(vec![json!({"id": 7, "name": "a"}), json!({"id": "b-2", "name": "b"})])
        }))
    }

    #[test]
    fn many_reads_of_a_kind_fetch_its_list_once() {
        let (listed, fetches) = (ListedReads::default(), Mutex::new(0));
        listed.expect("server", LIST_FROM);
        assert_eq!(read(&listed, "server", "7", &fetches).map(|i| i["name"].clone()), Some(json!("a")));
        assert_eq!(read(&listed, "server", "b-2", &fetches).map(|i| i["name"].clone()), Some(json!("b")));
        assert_eq!(read(&listed, "server", "9", &fetches), None, "not listed: read by itself");
        assert_eq!(*fetches.lock().expect("count"), 1);
    }

    #[test]
    fn few_reads_or_a_changed_kind_are_not_read_from_the_list() {
        let (listed, fetches) = (ListedReads::default(), Mutex::new(0));
        listed.expect("server", LIST_FROM - 1);
        assert_eq!(read(&listed, "server", "7", &fetches), None);
        listed.expect("volume", LIST_FROM);
        listed.forget("volume");
        assert_eq!(read(&listed, "volume", "7", &fetches), None);
        assert_eq!(*fetches.lock().expect("count"), 0);
    }
}
