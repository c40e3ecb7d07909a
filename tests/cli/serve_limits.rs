//! `coach serve --http` cannot be starved (issue 26 item 9), against the real binary with
//! raw TCP clients: a connection that sends nothing, half a header, or goes idle after a
//! request is closed within the header-read timeout (10 s); connections beyond the cap
//! (64) are closed at once, and the endpoint answers again as soon as the silent ones are
//! cut. Binding beyond loopback is warned about.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::serve::start_on;

/// The server's header-read timeout, and the slack a loaded test machine gets on top.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
const SLACK: Duration = Duration::from_secs(5);

fn connect(addr: &str) -> TcpStream {
    let stream = TcpStream::connect(addr).expect("connect to coach serve");
    stream
        .set_read_timeout(Some(HEADER_READ_TIMEOUT + SLACK + SLACK))
        .unwrap();
    stream
}

/// Reads until the server closes the connection; how long that took, and what it sent.
fn until_closed(stream: &mut TcpStream) -> (Duration, String) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => received.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!(
                "still open after {:?} ({e}); received {:?}",
                started.elapsed(),
                String::from_utf8_lossy(&received)
            ),
        }
    }
    (
        started.elapsed(),
        String::from_utf8_lossy(&received).into_owned(),
    )
}

fn health(addr: &str) -> Result<String, String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /health/workers HTTP/1.1\r\nHost: coach\r\nConnection: close\r\n\r\n")
        .map_err(|e| e.to_string())?;
    let mut answer = String::new();
    stream
        .read_to_string(&mut answer)
        .map_err(|e| e.to_string())?;
    if answer.starts_with("HTTP/1.1 200") {
        Ok(answer)
    } else {
        Err(format!("answered {answer:?}"))
    }
}

#[test]
fn silent_half_sent_and_idle_connections_are_closed_within_the_header_timeout() {
    let server = start_on("127.0.0.1:0", "");
    let addr = server.addr.clone();

    let mut silent = connect(&addr);
    let mut half = connect(&addr);
    half.write_all(b"GET /health/workers HTTP/1.1\r\nHost: co")
        .unwrap();
    let mut idle = connect(&addr);
    idle.write_all(b"GET /metrics HTTP/1.1\r\nHost: coach\r\n\r\n")
        .unwrap();

    let cases = [("silent", &mut silent), ("half a header", &mut half)];
    for (what, stream) in cases {
        let (took, _) = until_closed(stream);
        assert!(
            took <= HEADER_READ_TIMEOUT + SLACK,
            "{what}: closed after {took:?}"
        );
    }
    let (took, answer) = until_closed(&mut idle);
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        took <= HEADER_READ_TIMEOUT + SLACK,
        "idle after a request: closed after {took:?}"
    );
    // Meanwhile and after, a real request is answered.
    health(&addr).unwrap_or_else(|e| panic!("{e}\n{}", server.log()));
}

#[test]
fn connections_beyond_the_cap_are_closed_and_the_endpoint_recovers() {
    let server = start_on("127.0.0.1:0", "");
    let addr = server.addr.clone();
    let mut silent: Vec<TcpStream> = (0..100).map(|_| connect(&addr)).collect();

    // The 36 beyond the cap of 64 are closed at once.
    let mut closed_at_once = 0;
    for stream in &mut silent {
        stream
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut byte = [0u8; 1];
        if matches!(stream.read(&mut byte), Ok(0)) {
            closed_at_once += 1;
        }
    }
    assert!(
        closed_at_once >= 100 - 64,
        "only {closed_at_once} of 100 silent connections were refused"
    );

    // Once the silent ones are cut, the endpoint answers again, while they stay open on
    // the client's side.
    let deadline = Instant::now() + HEADER_READ_TIMEOUT + SLACK;
    let answered = loop {
        match health(&addr) {
            Ok(answer) => break answer,
            Err(e) if Instant::now() > deadline => panic!("starved: {e}\n{}", server.log()),
            Err(_) => std::thread::sleep(Duration::from_millis(250)),
        }
    };
    assert!(answered.contains("\"workers\""), "{answered}");
    drop(silent);
}

#[test]
fn listening_beyond_loopback_is_warned_about() {
    let server = start_on("0.0.0.0:0", "");
    health(&server.addr).unwrap();
    assert!(
        server.log().contains("reachable from other machines"),
        "{}",
        server.log()
    );
    let local = start_on("127.0.0.1:0", "");
    health(&local.addr).unwrap();
    assert!(!local.log().contains("reachable from other machines"));
}
