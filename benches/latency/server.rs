//! The broker a scenario drives: a fresh minikafka over a log directory of its own, or the
//! run's one Apache Kafka (`apache.rs`), behind the few operations the scenarios need.

use std::path::PathBuf;

use crate::apache;
use crate::broker::{Broker, CpuUse, TempDir};
use crate::wire::Conn;

/// Which broker a scenario runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Mini,
    Kafka,
}

pub enum Server {
    // `broker` is declared first so that it stops before its directory is removed.
    Mini { broker: Broker, _dir: TempDir },
    Kafka { port: u16, pid: u32, output: PathBuf },
}

impl Server {
    pub fn port(&self) -> u16 {
        match self {
            Server::Mini { broker, .. } => broker.port,
            Server::Kafka { port, .. } => *port,
        }
    }

    pub fn pid(&self) -> u32 {
        match self {
            Server::Mini { broker, .. } => broker.pid(),
            Server::Kafka { pid, .. } => *pid,
        }
    }

    pub fn cpu(&self) -> Option<CpuUse> {
        CpuUse::of(self.pid())
    }

    /// Spawn to "listening", for minikafka only.
    pub fn listen_ms(&self) -> Option<f64> {
        match self {
            Server::Mini { broker, .. } => {
                Some((broker.listening - broker.spawned).as_secs_f64() * 1e3)
            }
            Server::Kafka { .. } => None,
        }
    }

    pub fn connect(&mut self) -> Result<Conn, String> {
        Conn::connect(self.port()).map_err(|e| self.explain(format!("connect: {e}")))
    }

    /// Fails if the broker has exited, with its last output.
    pub fn check_alive(&mut self) -> Result<(), String> {
        match self {
            Server::Mini { broker, .. } => broker.check_alive(),
            // Kafka's shell reaps it, so its /proc entry goes when it exits.
            Server::Kafka { pid, output, .. } => {
                match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
                    Ok(s) if !s.contains(") Z") => Ok(()),
                    _ => Err(format!("Kafka exited{}", apache::output_tail(output, *pid))),
                }
            }
        }
    }

    /// Adds the broker's state to a client-side error.
    pub fn explain(&mut self, e: impl std::fmt::Display) -> String {
        match self {
            Server::Mini { broker, .. } => broker.explain(e),
            Server::Kafka { pid, output, .. } => {
                format!("{e}{}", apache::output_tail(output, *pid))
            }
        }
    }
}
