// The packet's arguments are taken once: one `Data` (or `TryData`, `Args`, `Bin`) a handler.
use tower_socketio::Namespace;
use tower_socketio::extract::Data;

fn main() {
    let _ns: Namespace = Namespace::new().on(
        "x",
        |Data(_a): Data<u32>, Data(_b): Data<u32>| async move {},
    );
}
