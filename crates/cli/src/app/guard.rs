//! The checks every request passes before it reaches the app (see the module above).

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use sha2::{Digest as _, Sha256};

use super::App;

/// The cookie that holds the secret once the browser has opened the URL.
pub(super) const COOKIE: &str = "dualrec_secret";

/// Equal secrets, compared in time that does not depend on where they differ.
fn same_secret(given: &str, secret: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(secret.as_bytes())
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// `Host` names this server (by address or as localhost), and `Origin`, when sent, is
/// this server too.
fn names_this_server(headers: &HeaderMap, port: u16) -> bool {
    let ours = [format!("127.0.0.1:{port}"), format!("localhost:{port}")];
    let host_ok = header_str(headers, header::HOST).is_some_and(|h| ours.iter().any(|o| o == h));
    let origin_ok = match header_str(headers, header::ORIGIN) {
        None => true,
        Some(o) => ours.iter().any(|h| o == format!("http://{h}")),
    };
    let cross_site = header_str(headers, "sec-fetch-site".parse().expect("header name"))
        .is_some_and(|s| s == "cross-site");
    host_ok && origin_ok && !cross_site
}

fn cookie_secret(headers: &HeaderMap) -> Option<&str> {
    header_str(headers, header::COOKIE)?
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v)
}

fn query_secret(request: &Request) -> Option<&str> {
    request.uri().query()?.split('&').find_map(|kv| kv.strip_prefix("secret="))
}

pub(super) async fn guard(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let refused = |why: &'static str| (StatusCode::FORBIDDEN, why).into_response();
    if !peer.ip().is_loopback() {
        return refused("only this computer may use dualrec's interface");
    }
    if !names_this_server(request.headers(), app.port()) {
        return refused("this request did not come from dualrec's own page");
    }
    // The URL printed at start: the secret moves into a cookie and out of the address bar.
    if request.uri().path() == "/open" {
        return match query_secret(&request) {
            Some(s) if same_secret(s, app.secret()) => {
                let cookie =
                    format!("{COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", app.secret());
                ([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response()
            }
            _ => {
                refused("this address is out of date: use the one dualrec printed when it started")
            }
        };
    }
    match cookie_secret(request.headers()) {
        Some(s) if same_secret(s, app.secret()) => next.run(request).await,
        _ => refused("open dualrec with the address it printed when it started"),
    }
}
