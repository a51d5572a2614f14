//! The few instructions of a function body the model needs: `ref.func` (a function that can
//! become a funcref), the segment instructions (`table.init`, `elem.drop`, `memory.init`,
//! `data.drop`), and those that write a table (`table.set`, `table.grow`, `table.fill`,
//! `table.copy`, `table.init` and the atomic ones).
//!
//! A body is read with a visitor that ignores every other instruction, so no `Operator` is
//! built for it: reading StarlingMonkey's engine module (10.5 MB of code) on two cores took
//! 29–35 ms, where an iterator of `Operator`s took 66 ms.

use anyhow::Result;
use wasmparser::{FunctionBody, VisitOperator, VisitSimdOperator};

/// What a function body's code says about function references and segments.
pub(super) enum CodeUse {
    RefFunc(u32),
    ElemDrop(u32),
    DataDrop(u32),
    TableInit(u32),
    MemoryInit(u32),
    /// An instruction that writes this table (by absolute index).
    TableWrite(u32),
}

/// Every [`CodeUse`] of `body`, in order.
pub(super) fn code_uses(body: &FunctionBody) -> Result<Vec<CodeUse>> {
    let mut uses = Uses(Vec::new());
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        reader.visit_operator(&mut uses)?;
    }
    reader.finish()?;
    Ok(uses.0)
}

/// The visitor: records the instructions above, and does nothing for every other one.
struct Uses(Vec<CodeUse>);

/// One method per instruction: the recorded ones by name, the rest doing nothing.
macro_rules! visit {
    ($( @$proposal:ident $op:ident $({ $($arg:ident: $argty:ty),* })? => $visit:ident ($($ann:tt)*))*) => {
        $( visit!(@one $visit $({ $($arg: $argty),* })?); )*
    };
    (@one visit_ref_func { $f:ident: $t:ty }) => {
        fn visit_ref_func(&mut self, $f: $t) {
            self.0.push(CodeUse::RefFunc($f));
        }
    };
    (@one visit_elem_drop { $e:ident: $t:ty }) => {
        fn visit_elem_drop(&mut self, $e: $t) {
            self.0.push(CodeUse::ElemDrop($e));
        }
    };
    (@one visit_data_drop { $d:ident: $t:ty }) => {
        fn visit_data_drop(&mut self, $d: $t) {
            self.0.push(CodeUse::DataDrop($d));
        }
    };
    (@one visit_table_init { $e:ident: $te:ty, $table:ident: $tt:ty }) => {
        fn visit_table_init(&mut self, $e: $te, $table: $tt) {
            self.0.push(CodeUse::TableInit($e));
            self.0.push(CodeUse::TableWrite($table));
        }
    };
    (@one visit_table_copy { $dst:ident: $td:ty, $src:ident: $ts:ty }) => {
        fn visit_table_copy(&mut self, $dst: $td, _: $ts) {
            self.0.push(CodeUse::TableWrite($dst));
        }
    };
    (@one visit_table_set { $table:ident: $t:ty }) => {
        fn visit_table_set(&mut self, $table: $t) {
            self.0.push(CodeUse::TableWrite($table));
        }
    };
    (@one visit_table_grow { $table:ident: $t:ty }) => {
        fn visit_table_grow(&mut self, $table: $t) {
            self.0.push(CodeUse::TableWrite($table));
        }
    };
    (@one visit_table_fill { $table:ident: $t:ty }) => {
        fn visit_table_fill(&mut self, $table: $t) {
            self.0.push(CodeUse::TableWrite($table));
        }
    };
    (@one visit_table_atomic_set { $o:ident: $to:ty, $table:ident: $t:ty }) => {
        fn visit_table_atomic_set(&mut self, _: $to, $table: $t) {
            self.0.push(CodeUse::TableWrite($table));
        }
    };
    (@one visit_table_atomic_rmw_xchg { $o:ident: $to:ty, $table:ident: $t:ty }) => {
        fn visit_table_atomic_rmw_xchg(&mut self, _: $to, $table: $t) {
            self.0.push(CodeUse::TableWrite($table));
        }
    };
    (@one visit_table_atomic_rmw_cmpxchg { $o:ident: $to:ty, $table:ident: $t:ty }) => {
        fn visit_table_atomic_rmw_cmpxchg(&mut self, _: $to, $table: $t) {
            self.0.push(CodeUse::TableWrite($table));
        }
    };
    (@one visit_memory_init { $d:ident: $td:ty, $mem:ident: $tm:ty }) => {
        fn visit_memory_init(&mut self, $d: $td, _: $tm) {
            self.0.push(CodeUse::MemoryInit($d));
        }
    };
    (@one $visit:ident $({ $($arg:ident: $argty:ty),* })?) => {
        fn $visit(&mut self $($(, _: $argty)*)?) {}
    };
}

impl<'a> VisitOperator<'a> for Uses {
    type Output = ();

    fn simd_visitor(&mut self) -> Option<&mut dyn VisitSimdOperator<'a, Output = ()>> {
        Some(self)
    }

    wasmparser::for_each_visit_operator!(visit);
}

impl VisitSimdOperator<'_> for Uses {
    wasmparser::for_each_visit_simd_operator!(visit);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instructions are found in order, with their segment (not their table or memory,
    /// index 0) or the table they write (not the one `table.copy` reads, or one only read),
    /// among others (SIMD included) that are not.
    #[test]
    fn finds_the_instructions_in_order() {
        let wat = r#"(module
          (memory 1) (table 1 funcref) (table $t1 1 funcref) (table $t2 1 funcref)
          (elem $e0 func $f) (elem $e func $f) (data $d0 "") (data $d "x")
          (func $f
            (drop (i32x4.splat (i32.const 1)))
            (table.init $t1 $e (i32.const 0) (i32.const 0) (i32.const 0))
            (drop (ref.func $f))
            (memory.init $d (i32.const 0) (i32.const 0) (i32.const 0))
            (elem.drop $e)
            (block (br_table 0 0 (i32.const 0)))
            (data.drop $d)
            (drop (table.get 0 (i32.const 0)))
            (drop (table.size 0))
            (table.set $t2 (i32.const 0) (ref.null func))
            (drop (table.grow $t1 (ref.null func) (i32.const 1)))
            (table.fill $t2 (i32.const 0) (ref.null func) (i32.const 1))
            (table.copy $t2 0 (i32.const 0) (i32.const 0) (i32.const 1))))"#;
        let bytes = wat::parse_str(wat).unwrap();
        let mut found = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&bytes) {
            if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
                for code_use in code_uses(&body).unwrap() {
                    found.push(match code_use {
                        CodeUse::RefFunc(i) => format!("ref.func {i}"),
                        CodeUse::ElemDrop(i) => format!("elem.drop {i}"),
                        CodeUse::DataDrop(i) => format!("data.drop {i}"),
                        CodeUse::TableInit(i) => format!("table.init {i}"),
                        CodeUse::MemoryInit(i) => format!("memory.init {i}"),
                        CodeUse::TableWrite(t) => format!("writes table {t}"),
                    });
                }
            }
        }
        let expected = [
            "table.init 1",
            "writes table 1",
            "ref.func 0",
            "memory.init 1",
            "elem.drop 1",
            "data.drop 1",
            "writes table 2",
            "writes table 1",
            "writes table 2",
            "writes table 2",
        ];
        assert_eq!(found, expected);
    }
}
