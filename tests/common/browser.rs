//! Debian's chromium driven through chromedriver (fantoccini), for the tests of what a
//! person sees in a browser.
#![allow(dead_code)] // each test binary uses its own subset

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::{Value, json};

/// A child process killed when the test ends, however it ends.
pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// chromedriver on a free loopback port: the process, and the address to connect to.
pub(crate) fn chromedriver() -> (Killed, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let driver = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver must be installed (.ci/setup installs chromium-driver)");
    (Killed(driver), format!("http://127.0.0.1:{port}"))
}

/// A headless chromium through the chromedriver at `driver`, with `args` added to its
/// command line; waits up to 20 s for the driver to come up.
pub(crate) async fn browser(driver: &str, args: &[&str]) -> Client {
    let mut all =
        vec!["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"];
    all.extend_from_slice(args);
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({"binary": "/usr/bin/chromium", "args": all}));
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match ClientBuilder::new(connector.clone()).capabilities(caps.clone()).connect(driver).await
        {
            Ok(c) => return c,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("chromedriver did not start a browser: {e}"),
        }
    }
}

/// Runs `script` (a JS expression) on the page.
pub(crate) async fn js(c: &Client, script: &str) -> Value {
    c.execute(&format!("return ({script});"), vec![]).await.expect("script")
}
