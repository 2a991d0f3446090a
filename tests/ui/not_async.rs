// A handler returns a future: a closure whose body is not `async` is not one.
use tower_socketio::{Namespace, SocketRef};

fn main() {
    let _ns: Namespace = Namespace::new().on("x", |socket: SocketRef| {
        let _ = socket.emit("y", &1);
    });
}
