mod common;

use common::kafka::{Kafka, KafkaOptions};
use common::TempDir;

#[test]
fn kafka_starts() {
    let t = TempDir::new("kafka");
    let k = Kafka::start_fresh(t.path(), &KafkaOptions::default());
    let mut c = common::Client::connect(k.addr);
    let body = c.call(18, 0, &[]);
    assert_eq!(&body[..2], &[0, 0]);
    eprintln!("rss {} KiB", k.rss_kib());
    k.stop();
}
