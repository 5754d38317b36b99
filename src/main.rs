//! `minikafka [server.properties] [--override key=value ...]`

use std::process::ExitCode;
use std::time::Instant;

use minikafka::broker::Broker;
use minikafka::config::Config;
use minikafka::server::Server;

fn main() -> ExitCode {
    let started = Instant::now();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let config = match Config::from_args(&args) {
        Ok(c) => c,
        Err(e) => {
            log::error!("{e}");
            eprintln!("usage: minikafka [server.properties] [--override key=value ...]");
            return ExitCode::from(2);
        }
    };
    let result =
        Broker::open(config).and_then(Server::bind).and_then(|mut server| server.run(started));
    if let Err(e) = result {
        log::error!("{e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}
