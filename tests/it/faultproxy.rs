//! A fault-injecting HTTP/1.1 proxy on loopback, in front of a real S3 server.
//!
//! Tests point cacher's endpoint at it and give it a plan: rules that match a request (method,
//! a substring of the request line, a header) and, a given number of times, answer with an S3
//! error status themselves (never reaching the server), or forward the request and cut the
//! response body after N bytes (a connection reset mid-body). Everything else is forwarded
//! byte for byte, so SigV4 is still verified by the real server. It keeps a log of request
//! lines and Range headers so tests can assert that a retry resumed with a Range.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and S3 error code, without forwarding.
    Status(u16, &'static str),
    /// Forward, then relay only this many body bytes and drop the connection.
    CutBody(usize),
    /// `403 RequestTimeTooSkewed` with a `Date` header this many seconds from now.
    Skewed(i64),
}

#[derive(Clone, Debug)]
pub struct Rule {
    pub method: Option<&'static str>,
    /// Substring of the request line (e.g. "partNumber=2").
    pub needle: Option<String>,
    pub fault: Fault,
    pub times: usize,
}

#[derive(Default)]
struct State {
    rules: Vec<Rule>,
    log: Vec<String>,
}

pub struct FaultProxy {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
}

impl FaultProxy {
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let st = st.clone();
                thread::spawn(move || {
                    let _ = serve(conn, upstream, st);
                });
            }
        });
        FaultProxy { addr, state }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn add(
        &self,
        method: Option<&'static str>,
        needle: Option<&str>,
        fault: Fault,
        times: usize,
    ) {
        self.state.lock().unwrap().rules.push(Rule {
            method,
            needle: needle.map(str::to_string),
            fault,
            times,
        });
    }

    /// Request lines seen so far (with ` [range: …]` when a Range header was sent).
    pub fn log(&self) -> Vec<String> {
        self.state.lock().unwrap().log.clone()
    }

    /// Rules that have not fired as often as planned (a test wants all to have fired).
    pub fn unfired(&self) -> Vec<Rule> {
        self.state
            .lock()
            .unwrap()
            .rules
            .iter()
            .filter(|r| r.times > 0)
            .cloned()
            .collect()
    }
}

fn read_head(r: &mut BufReader<TcpStream>) -> io::Result<Option<Vec<String>>> {
    let mut lines = Vec::new();
    loop {
        let mut l = String::new();
        if r.read_line(&mut l)? == 0 {
            return Ok(if lines.is_empty() { None } else { Some(lines) });
        }
        let t = l.trim_end_matches(['\r', '\n']).to_string();
        if t.is_empty() {
            if lines.is_empty() {
                continue;
            }
            return Ok(Some(lines));
        }
        lines.push(t);
    }
}

fn header<'a>(head: &'a [String], name: &str) -> Option<&'a str> {
    head.iter().skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn serve(client: TcpStream, upstream: SocketAddr, st: Arc<Mutex<State>>) -> io::Result<()> {
    let mut cr = BufReader::new(client.try_clone()?);
    let mut cw = client;
    let mut up: Option<(BufReader<TcpStream>, TcpStream)> = None;
    while let Some(head) = read_head(&mut cr)? {
        let len: usize = header(&head, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; len];
        cr.read_exact(&mut body)?;
        let line = head[0].clone();
        let method = line.split(' ').next().unwrap_or("").to_string();
        let fault = {
            let mut s = st.lock().unwrap();
            let mut entry = match header(&head, "range") {
                Some(r) => format!("{line} [range: {r}]"),
                None => line.clone(),
            };
            if let Some(d) = header(&head, "x-amz-date") {
                entry.push_str(&format!(" [x-amz-date: {d}]"));
            }
            s.log.push(entry);
            s.rules
                .iter_mut()
                .find(|r| {
                    r.times > 0
                        && r.method.is_none_or(|m| m == method)
                        && r.needle.as_deref().is_none_or(|n| line.contains(n))
                })
                .map(|r| {
                    r.times -= 1;
                    r.fault.clone()
                })
        };
        if let Some(Fault::Skewed(offset)) = &fault {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs() as i64;
            let date = httpdate(now + offset);
            let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>RequestTimeTooSkewed</Code><Message>injected</Message></Error>";
            write!(cw, "HTTP/1.1 403 Forbidden\r\nDate: {date}\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{xml}", xml.len())?;
            cw.flush()?;
            continue;
        }
        if let Some(Fault::Status(code, s3code)) = &fault {
            let xml = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{s3code}</Code><Message>injected by the test proxy</Message><RequestId>PROXY</RequestId></Error>");
            let body = if method == "HEAD" { "" } else { xml.as_str() };
            write!(
                cw,
                "HTTP/1.1 {code} Injected\r\nContent-Type: application/xml\r\nContent-Length: {}\r\n\r\n{body}",
                if method == "HEAD" { 0 } else { xml.len() }
            )?;
            cw.flush()?;
            continue;
        }
        if up.is_none() {
            let s = TcpStream::connect(upstream)?;
            up = Some((BufReader::new(s.try_clone()?), s));
        }
        let (ur, uw) = up.as_mut().unwrap();
        let mut req = head.join("\r\n");
        req.push_str("\r\n\r\n");
        uw.write_all(req.as_bytes())?;
        uw.write_all(&body)?;
        uw.flush()?;
        let Some(rhead) = read_head(ur)? else {
            return Ok(());
        };
        let mut out = rhead.join("\r\n");
        out.push_str("\r\n\r\n");
        cw.write_all(out.as_bytes())?;
        let status: u16 = rhead[0]
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let no_body =
            method == "HEAD" || status == 204 || status == 304 || (100..200).contains(&status);
        let cut = match fault {
            Some(Fault::CutBody(n)) => Some(n),
            _ => None,
        };
        if no_body {
            cw.flush()?;
            continue;
        }
        if header(&rhead, "transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
            // Relay chunked bodies verbatim (cuts are only planned on Content-Length bodies).
            loop {
                let mut size_line = String::new();
                ur.read_line(&mut size_line)?;
                cw.write_all(size_line.as_bytes())?;
                let size =
                    usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("0"), 16)
                        .unwrap_or(0);
                let mut chunk = vec![0; size + 2];
                ur.read_exact(&mut chunk)?;
                cw.write_all(&chunk)?;
                if size == 0 {
                    break;
                }
            }
            cw.flush()?;
            continue;
        }
        let rlen: usize = header(&rhead, "content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let send = cut.map_or(rlen, |n| n.min(rlen));
        let mut remaining = send;
        let mut buf = vec![0; 64 << 10];
        while remaining > 0 {
            let k = ur.read(&mut buf[..remaining.min(64 << 10)])?;
            if k == 0 {
                break;
            }
            cw.write_all(&buf[..k])?;
            remaining -= k;
        }
        cw.flush()?;
        if cut.is_some() {
            let _ = cw.shutdown(Shutdown::Both);
            let _ = uw.shutdown(Shutdown::Both);
            return Ok(());
        }
    }
    Ok(())
}

/// An IMF-fixdate for a unix time (Howard Hinnant's civil-from-days).
pub fn httpdate(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let rem = t.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let wd = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let mon = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ][(m - 1) as usize];
    format!(
        "{wd}, {d:02} {mon} {y} {:02}:{:02}:{:02} GMT",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
