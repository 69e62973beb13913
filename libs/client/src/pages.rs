//! List routes answer a page of items and an opaque `next_cursor`; these
//! streams follow the cursors until the last page.

use std::future::Future;

use futures_util::stream::{self, Stream, TryStreamExt as _};

use crate::{ApiClient, Error, Method};

/// One page of a list route, as every list answers it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Absent on the last page.
    pub next_cursor: Option<String>,
}

impl ApiClient {
    /// `GET` one page of the list at `segments` (`limit` and `cursor` as the
    /// list takes them; absent ones are left to the service's defaults).
    pub async fn list_page<T: serde::de::DeserializeOwned>(
        &self,
        segments: &[&str],
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<Page<T>, Error> {
        self.call(Method::GET, segments).query_opt("limit", limit).query_opt("cursor", cursor).send().await
    }
}

/// Every item of a list, one page request at a time (`fetch` gets the cursor
/// of the page to read, `None` for the first). Stops at the first error, and
/// refuses a server that hands back the cursor it was just given.
pub fn paginate<T, F, Fut>(fetch: F) -> impl Stream<Item = Result<T, Error>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>, Error>>,
{
    struct State<F> {
        fetch: F,
        cursor: Option<String>,
        done: bool,
    }
    let state = State { fetch, cursor: None, done: false };
    stream::try_unfold(state, |mut state| async move {
        if state.done {
            return Ok(None);
        }
        let asked = state.cursor.take();
        let page = (state.fetch)(asked.clone()).await?;
        if page.next_cursor.is_some() && page.next_cursor == asked {
            return Err(Error::UnexpectedResponse {
                url: String::new(),
                status: 200,
                message: "the list answered the cursor it was given as its next cursor".to_owned(),
            });
        }
        state.done = page.next_cursor.is_none();
        state.cursor = page.next_cursor;
        Ok(Some((page.items, state)))
    })
    .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
    .try_flatten()
}
