//! Route selection as API Gateway HTTP APIs do it, on `matchit`.
//!
//! - A route key is `METHOD /path` or `$default`; `METHOD` may be `ANY`.
//! - Path specificity decides first: literal segments beat `{param}`, and a
//!   greedy `{proxy+}` (last segment only) comes after both.
//! - For the same path, a route with the request's method beats `ANY`.
//! - `$default` catches whatever nothing else matched.
//!
//! Each concrete method gets its own router holding its own routes plus every
//! `ANY` route whose path it does not already have, so matchit's precedence
//! (static > parameter > catch-all) yields API Gateway's.

use std::collections::HashMap;

/// Methods that get their own router; any other method sees only `ANY` routes.
const METHODS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

/// One route as deployed: its key and what it leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route<T> {
    /// `GET /notes/{note_id}`, `ANY /{proxy+}` or `$default`.
    pub route_key: String,
    /// The route's target (integration, authorization...).
    pub target: T,
}

/// The outcome of a successful match.
#[derive(Debug, PartialEq, Eq)]
pub struct RouteMatch<'a, T> {
    pub route_key: &'a str,
    pub target: &'a T,
    /// Path parameters by name (`proxy` for `{proxy+}`), percent-decoded.
    pub path_parameters: HashMap<String, String>,
}

/// Why a route key was not added.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    #[error("route key `{0}` is not `METHOD /path` or `$default`")]
    InvalidKey(String),
    #[error("route `{key}` conflicts with another route: {reason}")]
    Conflict { key: String, reason: String },
}

/// The deployed routes of one HTTP API.
#[derive(Debug)]
pub struct RouteTable<T> {
    routes: Vec<Route<T>>,
    /// Per concrete method ("" for the others: `ANY` routes only).
    by_method: HashMap<&'static str, MethodRoutes>,
    default_route: Option<usize>,
}

/// The routes one method can reach. matchit does not let a catch-all share a
/// segment with a parameter, so each greedy route has a router of its own,
/// tried after the exact ones, longest prefix first.
#[derive(Debug, Default)]
struct MethodRoutes {
    exact: matchit::Router<usize>,
    /// (literal/param segments before the greedy one, is ANY, router).
    greedy: Vec<(usize, bool, matchit::Router<usize>)>,
}

impl MethodRoutes {
    fn insert(&mut self, path: &str, index: usize, is_any: bool) -> Result<(), matchit::InsertError> {
        if path.contains("{*") {
            let mut router = matchit::Router::new();
            router.insert(path, index)?;
            let prefix = path.matches('/').count();
            self.greedy.push((prefix, is_any, router));
            self.greedy.sort_by_key(|(prefix, any, _)| (std::cmp::Reverse(*prefix), *any));
            Ok(())
        } else {
            self.exact.insert(path, index)
        }
    }

    fn at<'r, 'p>(&'r self, path: &'p str) -> Option<matchit::Match<'r, 'p, &'r usize>> {
        if let Ok(found) = self.exact.at(path) {
            return Some(found);
        }
        self.greedy.iter().find_map(|(_, _, router)| router.at(path).ok())
    }
}

impl<T> RouteTable<T> {
    /// Builds the table. Routes that cannot be added are returned with the
    /// reason, next to the table holding all the others.
    pub fn new(routes: Vec<Route<T>>) -> (Self, Vec<RouteError>) {
        let mut by_method: HashMap<&'static str, MethodRoutes> =
            METHODS.iter().map(|m| (*m, MethodRoutes::default())).collect();
        by_method.insert("", MethodRoutes::default());
        let mut table = Self { routes: Vec::new(), by_method, default_route: None };
        let mut errors = Vec::new();
        let mut parsed = Vec::new();
        for route in routes {
            match parse_key(&route.route_key) {
                Ok(key) => parsed.push((key, route)),
                Err(error) => errors.push(error),
            }
        }
        // Method routes first, so a same-path ANY route never shadows them.
        parsed.sort_by_key(|(key, _)| matches!(key, Key::Method { method, .. } if method == "ANY"));
        for (key, route) in parsed {
            let index = table.routes.len();
            let route_key = route.route_key.clone();
            table.routes.push(route);
            let added = match key {
                Key::Default => {
                    if table.default_route.is_some() {
                        Err(conflict(&route_key, "a second $default route"))
                    } else {
                        table.default_route = Some(index);
                        Ok(())
                    }
                }
                Key::Method { method, path } if method == "ANY" => table.add_any(&route_key, &path, index),
                Key::Method { method, path } => match table.by_method.get_mut(method.as_str()) {
                    Some(routes) => {
                        routes.insert(&path, index, false).map_err(|e| conflict(&route_key, &e.to_string()))
                    }
                    None => Err(RouteError::InvalidKey(route_key.clone())),
                },
            };
            if let Err(error) = added {
                errors.push(error);
            }
        }
        (table, errors)
    }

    fn add_any(&mut self, route_key: &str, path: &str, index: usize) -> Result<(), RouteError> {
        if let Some(others) = self.by_method.get_mut("") {
            others.insert(path, index, true).map_err(|e| conflict(route_key, &e.to_string()))?;
        }
        for (method, routes) in &mut self.by_method {
            if method.is_empty() {
                continue;
            }
            match routes.insert(path, index, true) {
                Ok(()) => {}
                // The method has its own route on this very path: it wins.
                Err(matchit::InsertError::Conflict { with }) if with == path => {}
                Err(error) => {
                    tracing::warn!(route_key, method, %error, "ANY route not reachable with this method");
                }
            }
        }
        Ok(())
    }

    /// The route for `method` and `path` (the raw, still percent-encoded
    /// path), or `None` for API Gateway's 404.
    pub fn find(&self, method: &str, path: &str) -> Option<RouteMatch<'_, T>> {
        let routes = self.by_method.get(method).or_else(|| self.by_method.get(""))?;
        if let Some(found) = routes.at(path) {
            let route = &self.routes[*found.value];
            let path_parameters =
                found.params.iter().map(|(name, value)| (name.to_owned(), percent_decode(value))).collect();
            return Some(RouteMatch { route_key: &route.route_key, target: &route.target, path_parameters });
        }
        self.default_route.map(|index| {
            let route = &self.routes[index];
            RouteMatch { route_key: &route.route_key, target: &route.target, path_parameters: HashMap::new() }
        })
    }

    /// Every route that was added.
    pub fn routes(&self) -> &[Route<T>] {
        &self.routes
    }
}

fn conflict(key: &str, reason: &str) -> RouteError {
    RouteError::Conflict { key: key.to_owned(), reason: reason.to_owned() }
}

enum Key {
    Default,
    Method { method: String, path: String },
}

/// `GET /a/{b}/{proxy+}` → method and the matchit path `/a/{b}/{*proxy}`.
fn parse_key(route_key: &str) -> Result<Key, RouteError> {
    if route_key == "$default" {
        return Ok(Key::Default);
    }
    let invalid = || RouteError::InvalidKey(route_key.to_owned());
    let (method, path) = route_key.split_once(' ').ok_or_else(invalid)?;
    if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) || !path.starts_with('/') {
        return Err(invalid());
    }
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let mut converted = String::new();
    for (i, segment) in segments.iter().enumerate() {
        converted.push('/');
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix("+}")) {
            if i + 1 != segments.len() || name.is_empty() {
                return Err(invalid());
            }
            converted.push_str(&format!("{{*{name}}}"));
        } else if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            if name.is_empty() || name.contains(['{', '}', '*']) {
                return Err(invalid());
            }
            converted.push_str(segment);
        } else if segment.contains(['{', '}']) {
            return Err(invalid());
        } else {
            converted.push_str(segment);
        }
    }
    Ok(Key::Method { method: method.to_owned(), path: converted })
}

/// Percent-decoding (`%2F` → `/`); invalid escapes and non-UTF-8 results are
/// kept as they are / replaced, never rejected.
pub fn percent_decode(input: &str) -> String {
    percent_decode_with(input, false)
}

/// Percent-decoding for query strings, where `+` is a space.
pub fn percent_decode_with(input: &str, plus_as_space: bool) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            b'+' if plus_as_space => out.push(b' '),
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(keys: &[&str]) -> RouteTable<String> {
        let routes = keys.iter().map(|k| Route { route_key: (*k).to_owned(), target: (*k).to_owned() }).collect();
        let (table, errors) = RouteTable::new(routes);
        assert!(errors.is_empty(), "{errors:?}");
        table
    }

    fn key<'a>(table: &'a RouteTable<String>, method: &str, path: &str) -> Option<&'a str> {
        table.find(method, path).map(|m| m.route_key)
    }

    #[test]
    fn literal_beats_parameter_beats_greedy() {
        let t = table(&["GET /pets/{proxy+}", "GET /pets/{id}", "GET /pets/dog", "GET /pets/{id}/toys"]);
        assert_eq!(key(&t, "GET", "/pets/dog"), Some("GET /pets/dog"));
        assert_eq!(key(&t, "GET", "/pets/cat"), Some("GET /pets/{id}"));
        assert_eq!(key(&t, "GET", "/pets/cat/toys"), Some("GET /pets/{id}/toys"));
        assert_eq!(key(&t, "GET", "/pets/cat/food/bowl"), Some("GET /pets/{proxy+}"));
        let m = t.find("GET", "/pets/cat/food/bowl").expect("match");
        assert_eq!(m.path_parameters.get("proxy").map(String::as_str), Some("cat/food/bowl"));
        let m = t.find("GET", "/pets/a%20b").expect("match");
        assert_eq!(m.path_parameters.get("id").map(String::as_str), Some("a b"));
    }

    #[test]
    fn method_beats_any_on_the_same_path_and_path_specificity_comes_first() {
        let t = table(&["ANY /notes", "POST /notes", "ANY /notes/{id}", "GET /{proxy+}"]);
        assert_eq!(key(&t, "POST", "/notes"), Some("POST /notes"));
        assert_eq!(key(&t, "GET", "/notes"), Some("ANY /notes"));
        assert_eq!(key(&t, "DELETE", "/notes/1"), Some("ANY /notes/{id}"));
        // A literal ANY route is more specific than a greedy GET route.
        assert_eq!(key(&t, "GET", "/notes/1"), Some("ANY /notes/{id}"));
        assert_eq!(key(&t, "GET", "/other/x"), Some("GET /{proxy+}"));
        // Methods outside the usual set see ANY routes only.
        assert_eq!(key(&t, "PROPFIND", "/notes"), Some("ANY /notes"));
        assert_eq!(key(&t, "PROPFIND", "/other"), None);
    }

    #[test]
    fn default_catches_the_rest_and_no_default_is_404() {
        let t = table(&["GET /notes", "$default"]);
        assert_eq!(key(&t, "GET", "/notes"), Some("GET /notes"));
        assert_eq!(key(&t, "POST", "/notes"), Some("$default"));
        assert_eq!(key(&t, "GET", "/nothing/here"), Some("$default"));
        let t = table(&["GET /notes", "GET /notes/{note_id}"]);
        assert_eq!(key(&t, "POST", "/notes"), None);
        assert_eq!(key(&t, "GET", "/unknown"), None);
        assert_eq!(key(&t, "GET", "/notes/1/extra"), None);
        assert_eq!(key(&t, "GET", "/"), None);
    }

    #[test]
    fn greedy_parameter_does_not_match_its_parent() {
        let t = table(&["GET /files/{proxy+}"]);
        assert_eq!(key(&t, "GET", "/files/a"), Some("GET /files/{proxy+}"));
        assert_eq!(key(&t, "GET", "/files"), None);
    }

    #[test]
    fn invalid_keys_are_reported_and_skipped() {
        let routes = ["GET notes", "get /x", "GET /{a+}/b", "GET /ok"]
            .iter()
            .map(|k| Route { route_key: (*k).to_owned(), target: () })
            .collect();
        let (t, errors) = RouteTable::new(routes);
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(t.find("GET", "/ok").is_some());
    }

    #[test]
    fn percent_decoding() {
        assert_eq!(percent_decode("a%2Fb%zz%4"), "a/b%zz%4");
        assert_eq!(percent_decode_with("a+b%2B", true), "a b+");
        assert_eq!(percent_decode("a+b"), "a+b");
    }
}
