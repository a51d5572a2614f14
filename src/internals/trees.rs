//! Generated component trees, for the `generated_trees` test and the `pipeline_trees` fuzz
//! target: nested definitions instantiated once or twice, modules that reach their
//! instantiating scope every way the component model allows (defined there, `alias outer`,
//! an import the parent satisfies, an export of a library instance), nested components
//! copied from the root through `alias outer`, memories, tables and globals shared between
//! instances, funcrefs of one instance in another's table, and inits that write all of it
//! through calls between sibling components. Every tree exports `init: func(x: u32)` and
//! `read: func() -> u32`.

use std::fmt::Write;

/// xorshift64*: small, seedable, the same on every machine (the generated corpora's
/// randomness).
pub struct Rng(u64);

impl Rng {
    /// The sequence of `seed`.
    pub fn new(seed: u64) -> Self {
        Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    /// The next number.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// The module every tree instantiates: a memory, a global and a table it exports, and an
/// init that writes all three (its own functions into the table).
const CELL: &str = r#"(core module $cell
    (type $ii (func (param i32) (result i32)))
    (memory (export "mem") 1)
    (global $g (export "g") (mut i32) (i32.const 0))
    (table $t (export "tab") 4 funcref)
    (func $f0 (type $ii) (i32.add (local.get 0) (i32.const 1)))
    (func $f1 (type $ii) (i32.mul (local.get 0) (i32.const 2)))
    (func $f2 (type $ii) (i32.xor (local.get 0) (i32.const 85)))
    (elem declare func $f0 $f1 $f2)
    (func (export "init") (param $x i32)
      (global.set $g (i32.add (i32.mul (global.get $g) (i32.const 7)) (local.get $x)))
      (i32.store (i32.and (i32.mul (local.get $x) (i32.const 52)) (i32.const 65532)) (local.get $x))
      (i32.store offset=16 (i32.and (local.get $x) (i32.const 60)) (global.get $g))
      (table.set $t (i32.rem_u (local.get $x) (i32.const 3))
        (select (result funcref) (ref.func $f0) (ref.func $f1) (i32.and (local.get $x) (i32.const 1))))
      (if (i32.eqz (i32.rem_u (local.get $x) (i32.const 5)))
        (then (table.set $t (i32.const 2) (ref.func $f2)))))
    (func (export "read") (result i32) (local $s i32) (local $i i32)
      (local.set $s (global.get $g))
      (loop $slots
        (if (i32.eqz (ref.is_null (table.get $t (local.get $i))))
          (then (local.set $s (i32.add (local.get $s)
            (call_indirect $t (type $ii) (i32.add (local.get $i) (i32.const 7)) (local.get $i))))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $slots (i32.lt_u (local.get $i) (i32.const 4))))
      (local.set $i (i32.const 0))
      (loop $words
        (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 31)) (i32.load (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br_if $words (i32.lt_u (local.get $i) (i32.const 256))))
      (local.get $s)))"#;

/// [`CELL`] with other constants, named `$cellv`: the same type, another module.
fn variant_cell() -> String {
    CELL.replacen("$cell", "$cellv", 1)
        .replace("(i32.const 7)", "(i32.const 13)")
        .replace("(i32.const 52)", "(i32.const 36)")
}

/// The core module type of [`CELL`], for imports of it.
const CELL_TYPE: &str = r#"(export "mem" (memory 1)) (export "g" (global (mut i32))) (export "tab" (table 4 funcref)) (export "init" (func (param i32))) (export "read" (func (result i32)))"#;

/// A module that imports a cell's memory, table and global and writes them, putting its own
/// function into the cell's table.
const USER: &str = r#"(core module $user
    (type $ii (func (param i32) (result i32)))
    (import "c" "mem" (memory 1))
    (import "c" "tab" (table 4 funcref))
    (import "c" "g" (global $g (mut i32)))
    (func $u0 (type $ii) (i32.sub (local.get 0) (i32.const 3)))
    (elem declare func $u0)
    (func (export "init") (param $x i32)
      (global.set $g (i32.mul (global.get $g) (i32.const 3)))
      (i32.store offset=1024 (i32.const 0) (local.get $x))
      (table.set 0 (i32.const 3) (ref.func $u0)))
    (func (export "read") (result i32)
      (i32.add (i32.load offset=1024 (i32.const 0)) (global.get $g))))"#;

/// How a component gets its `$cell` module.
#[derive(Clone, Copy, Debug)]
enum CellFrom {
    Defined,
    Outer,
    Import,
    Library,
}

struct Gen {
    r: Rng,
    next_id: u32,
    /// The root defines `$shared`, a component nested components may instantiate through
    /// `alias outer`.
    shared: bool,
}

/// The instance type of every component's exports, which the next sibling imports as
/// `prev`.
const PREV: &str = r#"(import "prev" (instance $p (export "init" (func (param "x" u32))) (export "read" (func (result u32)))))"#;

impl Gen {
    /// A component (`(component $name ...)`) at `depth` (0: the root) exporting
    /// `init: func(x: u32)` and `read: func() -> u32`, importing `prev` (the same two, of the
    /// sibling instantiated before it) when `prev` is set. A *leaf* holds core instances and
    /// calls `prev` from its init; a *wiring* component instantiates nested components in a
    /// chain (each calls the one before it; Wasmtime refuses calls between a component and
    /// its parent) and exports the last one's functions. Returns the text and whether it
    /// imports `$cell`.
    fn component(&mut self, depth: u32, name: &str, prev: bool) -> (String, bool) {
        let id = self.next_id;
        self.next_id += 1;
        let mut body = String::new();
        if prev {
            let _ = writeln!(body, "  {PREV}");
        }
        let from = match depth {
            0 => [CellFrom::Defined, CellFrom::Library][self.r.below(2) as usize],
            _ => [
                CellFrom::Defined,
                CellFrom::Outer,
                CellFrom::Import,
                CellFrom::Library,
            ][self.r.below(4) as usize],
        };
        if depth == 0 {
            // The root always defines the module, for outer aliases and arguments.
            let _ = writeln!(body, "  {CELL}");
        }
        let cell = match (depth, from) {
            (0, CellFrom::Defined) => "$cell".to_string(),
            (_, CellFrom::Defined) => {
                let _ = writeln!(body, "  {CELL}");
                "$cell".to_string()
            }
            (_, CellFrom::Outer) => {
                let _ = writeln!(body, "  (alias outer $root $cell (core module $cellx))");
                "$cellx".to_string()
            }
            (_, CellFrom::Import) => {
                let _ = writeln!(body, "  (import \"cell\" (core module $celli {CELL_TYPE}))");
                "$celli".to_string()
            }
            (_, CellFrom::Library) => {
                let _ = writeln!(
                    body,
                    "  (component $lib{id} {CELL} (export \"m\" (core module $cell)))\n  \
                     (instance $libi{id} (instantiate $lib{id}))\n  \
                     (alias export $libi{id} \"m\" (core module $celll))"
                );
                "$celll".to_string()
            }
        };
        let imports_cell = matches!(from, CellFrom::Import);
        // The root is usually wiring, so nested wiring components (and `$shared`) occur.
        let wiring = depth < 2 && self.r.below(4) < u64::from(3 - depth);
        match wiring {
            true => self.wiring(&mut body, depth, prev, &cell),
            false => self.leaf(&mut body, prev, &cell),
        }
        (format!("(component {name}\n{body})"), imports_cell)
    }

    fn leaf(&mut self, body: &mut String, prev: bool, cell: &str) {
        let _ = writeln!(body, "  {USER}");
        let mut parts: Vec<(String, String)> = Vec::new(); // (arg name, instance expr)
        for k in 0..1 + self.r.below(2) {
            let _ = writeln!(body, "  (core instance $k{k} (instantiate {cell}))");
            parts.push((format!("k{k}"), format!("(instance $k{k})")));
        }
        if self.r.below(3) > 0 {
            let _ = writeln!(
                body,
                "  (core instance $u (instantiate $user (with \"c\" (instance $k0))))"
            );
            parts.push(("u".into(), "(instance $u)".into()));
        }
        if prev {
            let _ = writeln!(
                body,
                "  (alias export $p \"init\" (func $p-init))\n  \
                 (alias export $p \"read\" (func $p-read))\n  \
                 (core func $pl-init (canon lower (func $p-init)))\n  \
                 (core func $pl-read (canon lower (func $p-read)))\n  \
                 (core instance $prev (export \"init\" (func $pl-init)) (export \"read\" (func $pl-read)))"
            );
            parts.push(("prev".into(), "(instance $prev)".into()));
        }
        // The driver: calls every part's init, sums every part's read.
        let mut imports = String::new();
        let mut inits = String::new();
        let mut reads = String::from("(i32.const 0)");
        for (i, (arg, _)) in parts.iter().enumerate() {
            let _ = write!(
                imports,
                "\n    (import \"{arg}\" \"init\" (func $init{i} (param i32)))\
                 \n    (import \"{arg}\" \"read\" (func $read{i} (result i32)))"
            );
            let k = 1 + self.r.below(40);
            let _ = write!(
                inits,
                "\n      (call $init{i} (i32.add (local.get $x) (i32.const {k})))"
            );
            reads = format!("(i32.add (i32.mul {reads} (i32.const 3)) (call $read{i}))");
        }
        let _ = writeln!(
            body,
            "  (core module $driver{imports}\n    \
             (func (export \"init\") (param $x i32){inits})\n    \
             (func (export \"read\") (result i32) {reads}))"
        );
        let args: String = parts
            .iter()
            .map(|(arg, inst)| format!(" (with \"{arg}\" {inst})"))
            .collect();
        let _ = writeln!(
            body,
            "  (core instance $drv (instantiate $driver{args}))\n  \
             (func (export \"init\") (param \"x\" u32) (canon lift (core func $drv \"init\")))\n  \
             (func (export \"read\") (result u32) (canon lift (core func $drv \"read\")))"
        );
    }

    fn wiring(&mut self, body: &mut String, depth: u32, prev: bool, cell: &str) {
        let mut last: Option<String> = match prev {
            true => Some("$p".into()),
            false => None,
        };
        let mut n = 0;
        let mut variant = false;
        for d in 0..1 + self.r.below(2) {
            // The first definition is instantiated first: it imports `prev` only when this
            // component has one to give it.
            let wants_prev = d > 0 || prev;
            // `$shared` imports no `prev`: it can stand first in a chain that has none.
            let use_shared = self.shared && depth > 0 && !wants_prev && self.r.below(3) > 0;
            let (def, imports_cell) = if use_shared {
                let _ = writeln!(body, "  (alias outer $root $shared (component $sh{d}))");
                (format!("$sh{d}"), false)
            } else {
                let (child, imports) = self.component(depth + 1, &format!("$d{d}"), wants_prev);
                let _ = writeln!(body, "  {child}");
                (format!("$d{d}"), imports)
            };
            for _ in 0..1 + self.r.below(2) {
                let mut with = String::new();
                if imports_cell {
                    // Now and then another module for the same import: the definition then
                    // needs one version per module.
                    let given = match self.r.below(3) {
                        0 => {
                            if !variant {
                                let _ = writeln!(body, "  {}", variant_cell());
                                variant = true;
                            }
                            "$cellv"
                        }
                        _ => cell,
                    };
                    let _ = write!(with, " (with \"cell\" (core module {given}))");
                }
                if wants_prev {
                    match &last {
                        Some(p) => {
                            let _ = write!(with, " (with \"prev\" (instance {p}))");
                        }
                        // Only the first definition's first instance can lack one.
                        None => unreachable!("a definition that wants `prev` comes second"),
                    }
                }
                let _ = writeln!(body, "  (instance $i{n} (instantiate {def}{with}))");
                last = Some(format!("$i{n}"));
                n += 1;
                if !wants_prev && n == 1 {
                    // Its second instance, if any, has nobody to call: it keeps the state
                    // of its instantiation.
                }
            }
        }
        let last = last.expect("a wiring component instantiates something");
        let _ = writeln!(
            body,
            "  (alias export {last} \"init\" (func $init))\n  \
             (alias export {last} \"read\" (func $read))\n  \
             (export \"init\" (func $init))\n  \
             (export \"read\" (func $read))"
        );
    }
}

/// The tree of `seed`, as WAT.
pub fn generate(seed: u64) -> String {
    let mut g = Gen {
        r: Rng::new(seed),
        next_id: 0,
        shared: false,
    };
    // `$shared`: a depth-1 component the root defines (not instantiating it itself), which
    // nested components copy through `alias outer`.
    let shared = match g.r.below(2) {
        0 => None,
        _ => {
            let (text, imports) = g.component(1, "$shared", false);
            (!imports).then_some(text)
        }
    };
    g.shared = shared.is_some();
    let (root, _) = g.component(0, "$root", false);
    match shared {
        // The root's body starts with `$cell`; `$shared` comes right after it.
        Some(shared) => root.replacen(
            &format!("  {CELL}\n"),
            &format!("  {CELL}\n  {shared}\n"),
            1,
        ),
        None => root,
    }
}
