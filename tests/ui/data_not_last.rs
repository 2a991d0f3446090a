// The extractor that takes the packet's arguments comes last.
use tower_socketio::Namespace;
use tower_socketio::extract::{AckSender, Data};

fn main() {
    let _ns: Namespace = Namespace::new().on("x", |Data(_n): Data<u32>, _ack: AckSender| async move {});
}
