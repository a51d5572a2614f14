//! Validation of inputs and outputs with every feature compsnap may read or emit.
//!
//! Function bodies are most of the work on a large module (a 10 MB engine has thousands), and
//! each is validated on its own once the module's sections are read, so they are spread over
//! every core (`parallel`). The error reported is the one sequential validation reports: the
//! first invalid function's.

use crate::parallel::{code_bytes, map_runs};
use anyhow::{anyhow, Result};
use wasmparser::types::Types;
use wasmparser::{
    FuncToValidate, FuncValidatorAllocations, FunctionBody, Parser, ValidPayload, Validator,
    ValidatorResources, WasmFeatures,
};

type Body<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// Validates `bytes` (a component or core module); the root's types.
pub fn validate(bytes: &[u8]) -> Result<Types> {
    let mut validator = Validator::new_with_features(WasmFeatures::all());
    let mut bodies: Vec<Body> = Vec::new();
    let mut root = None;
    for payload in Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| anyhow!("{e}"))?;
        match validator.payload(&payload).map_err(|e| anyhow!("{e}"))? {
            ValidPayload::Func(func, body) => bodies.push((func, body)),
            ValidPayload::End(types) => root = Some(types),
            _ => {}
        }
    }
    validate_bodies(bodies)?;
    root.ok_or_else(|| anyhow!("unexpected end of the binary"))
}

/// Every body, on every core (see `parallel`): the error is the first invalid body's.
fn validate_bodies(bodies: Vec<Body>) -> Result<()> {
    let size = |(_, body): &Body| code_bytes(body);
    map_runs(
        bodies,
        size,
        FuncValidatorAllocations::default,
        |allocations, _, (func, body)| {
            let mut validator = func.into_validator(std::mem::take(allocations));
            validator.validate(&body).map_err(|e| anyhow!("{e}"))?;
            *allocations = validator.into_allocations();
            Ok(())
        },
    )
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with `n` functions, the ones in `bad` returning an i64 where an i32 is due.
    fn module(n: usize, bad: &[usize]) -> Vec<u8> {
        let mut wat = String::from("(module\n");
        for i in 0..n {
            let value = match bad.contains(&i) {
                true => "(i64.const 1)",
                false => "(i32.const 1)",
            };
            // Long enough bodies that the parallel path runs.
            let pad = "(drop (i32.const 0)) ".repeat(200);
            wat.push_str(&format!("(func $f{i} (result i32) {pad} {value})\n"));
        }
        wat.push(')');
        wat::parse_str(wat).unwrap()
    }

    #[test]
    fn parallel_validation_reports_the_first_invalid_function() {
        let good = module(2_000, &[]);
        assert!(
            good.len() > 1 << 20,
            "big enough to be validated in parallel"
        );
        validate(&good).unwrap();
        let sequential = |bytes: &[u8]| {
            Validator::new_with_features(WasmFeatures::all())
                .validate_all(bytes)
                .err()
                .expect("invalid")
                .to_string()
        };
        for bad in [&[5][..], &[1_990][..], &[1_500, 10][..]] {
            let bytes = module(2_000, bad);
            let ours = validate(&bytes).err().expect("invalid").to_string();
            assert_eq!(ours, sequential(&bytes), "bad functions {bad:?}");
        }
    }

    #[test]
    fn a_truncated_binary_is_an_error() {
        let bytes = module(3, &[]);
        assert!(validate(&bytes[..bytes.len() - 2]).is_err());
        assert!(validate(b"\0asm").is_err());
    }
}
