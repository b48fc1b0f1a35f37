//! The servers the workers' tests talk to: PostgreSQL on 127.0.0.1:5432 and Redis on
//! 127.0.0.1:6379. A server that does not accept TCP connections is started
//! (`service postgresql start` / `pg_ctlcluster`, `redis-server --daemonize yes`) and waited for.

use std::{
    net::{SocketAddr, TcpStream},
    process::Command,
    thread,
    time::{Duration, Instant},
};

use crate::{
    error::{Error, Result},
    proc,
};

/// How long a started server gets to accept connections.
pub const START_TIMEOUT: Duration = Duration::from_secs(20);

/// A server the tests need.
#[derive(Clone, Copy, Debug)]
pub struct Service {
    /// Human name, used in messages.
    pub name: &'static str,
    /// Where it must accept TCP connections.
    pub addr: ([u8; 4], u16),
    /// Tries to start it (best effort; failures are printed, not returned).
    pub start: fn(),
}

/// PostgreSQL on 127.0.0.1:5432.
pub const POSTGRES: Service = Service {
    name: "PostgreSQL",
    addr: ([127, 0, 0, 1], 5432),
    start: start_postgres,
};

/// Redis on 127.0.0.1:6379.
pub const REDIS: Service = Service {
    name: "Redis",
    addr: ([127, 0, 0, 1], 6379),
    start: start_redis,
};

impl Service {
    /// The socket address.
    pub fn socket(&self) -> SocketAddr {
        SocketAddr::from(self.addr)
    }

    /// Makes sure the server accepts connections, starting it and waiting up to `timeout`.
    pub fn ensure(&self, timeout: Duration) -> Result<()> {
        let addr = self.socket();
        if is_up(addr) {
            println!("{} is up on {addr}", self.name);
            return Ok(());
        }
        println!(
            "{} is not accepting connections on {addr}; starting it",
            self.name
        );
        (self.start)();
        if wait_until_up(addr, timeout) {
            println!("{} is up on {addr}", self.name);
            Ok(())
        } else {
            Err(Error::ServiceDown {
                name: self.name.to_string(),
                addr: addr.to_string(),
                secs: timeout.as_secs(),
            })
        }
    }
}

/// Ensures PostgreSQL and Redis are up.
pub fn ensure_all() -> Result<()> {
    for service in [POSTGRES, REDIS] {
        service.ensure(START_TIMEOUT)?;
    }
    Ok(())
}

/// Whether something accepts a TCP connection on `addr`.
pub fn is_up(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_millis(500)).is_ok()
}

/// Polls `addr` until it accepts a connection or `timeout` passes.
pub fn wait_until_up(addr: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if is_up(addr) {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(Duration::from_millis(250));
    }
}

/// Runs a start command, printing (not returning) a failure.
fn best_effort(cmd: &mut Command) {
    if let Err(e) = proc::run(cmd) {
        println!("({e})");
    }
}

fn start_postgres() {
    if proc::on_path("service").is_some() {
        best_effort(Command::new("service").args(["postgresql", "start"]));
        if is_up(POSTGRES.socket()) {
            return;
        }
    }
    if proc::on_path("pg_lsclusters").is_none() || proc::on_path("pg_ctlcluster").is_none() {
        return;
    }
    let Ok(list) = proc::output(Command::new("pg_lsclusters").arg("--no-header")) else {
        return;
    };
    for (version, cluster) in clusters_to_start(&list) {
        best_effort(Command::new("pg_ctlcluster").args([&version, &cluster, "start"]));
    }
}

/// From `pg_lsclusters --no-header` output, the `(version, cluster)` pairs to start: the clusters
/// on port 5432 that are not online, else every cluster that is not online.
fn clusters_to_start(list: &str) -> Vec<(String, String)> {
    // `16 main 5432 down postgres /var/lib/postgresql/16/main /var/log/...`
    let down: Vec<Vec<&str>> = list
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .filter(|f| f.len() >= 4 && f[0] != "Ver" && !f[3].starts_with("online"))
        .collect();
    let on_port: Vec<&Vec<&str>> = down.iter().filter(|f| f[2] == "5432").collect();
    let chosen = if on_port.is_empty() {
        down.iter().collect()
    } else {
        on_port
    };
    chosen
        .into_iter()
        .map(|f| (f[0].to_string(), f[1].to_string()))
        .collect()
}

fn start_redis() {
    best_effort(Command::new("redis-server").args(["--daemonize", "yes"]));
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn a_listening_port_is_up() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(is_up(addr));
        drop(listener);
        assert!(!wait_until_up(addr, Duration::ZERO));
    }

    #[test]
    fn picks_down_postgres_clusters() {
        let list = "\
15 main 5432 down postgres /var/lib/postgresql/15/main /var/log/postgresql/15-main.log
16 other 5433 down postgres /var/lib/postgresql/16/other /var/log/postgresql/16-other.log
16 up 5434 online postgres /var/lib/postgresql/16/up /var/log/postgresql/16-up.log
";
        assert_eq!(clusters_to_start(list), vec![("15".into(), "main".into())]);
        let elsewhere = list.replacen("5432", "5435", 1);
        assert_eq!(clusters_to_start(&elsewhere).len(), 2);
        assert!(clusters_to_start("15 main 5432 online postgres /d /l\n").is_empty());
    }

    #[test]
    fn a_server_that_will_not_start_is_named() {
        // A port nobody listens on: bind, note the port, release it.
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let service = Service {
            name: "Imaginary DB",
            addr: ([127, 0, 0, 1], port),
            start: || {},
        };
        let err = service.ensure(Duration::from_millis(300)).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, Error::ServiceDown { .. }));
        assert!(
            message.contains("Imaginary DB") && message.contains(&port.to_string()),
            "{message}"
        );
    }
}
