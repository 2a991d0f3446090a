//! The compiler's words for the usual mistakes in handlers, pinned (`tests/ui/*.stderr`): each
//! case must fail to compile with its message. Regenerate with `TRYBUILD=overwrite` after a
//! deliberate change of a message, and read the diff.

#[test]
fn handler_mistakes_fail_to_compile_with_their_messages() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}
