// `Data<T>` needs `T: Deserialize`.
use tower_socketio::Namespace;
use tower_socketio::extract::Data;

struct Plain;

fn main() {
    let _ns: Namespace = Namespace::new().on("x", |Data(_p): Data<Plain>| async move {});
}
