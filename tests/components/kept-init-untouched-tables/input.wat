;; init: init
;; An init that changes only a global leaves the funcref tables (an active segment, an imported table, a null slot) as they were.
(component
  (core module $a
    (type $v (func (result i32)))
    (table (export "tab") 3 funcref)
    (func $one (type $v) (i32.const 1))
    (func $two (type $v) (i32.const 2))
    (elem (i32.const 0) func $one $two)
    (func (export "call") (param i32) (result i32) (call_indirect (type $v) (local.get 0))))
  (core instance $ia (instantiate $a))
  (core module $b
    (type $v (func (result i32)))
    (import "a" "tab" (table 3 funcref))
    (global $ready (mut i32) (i32.const 0))
    (func (export "init") (global.set $ready (i32.const 1)))
    (func (export "ready") (result i32)
      (i32.add (global.get $ready) (table.size 0))))
  (core instance $ib (instantiate $b (with "a" (instance $ia))))
  (func (export "init") (canon lift (core func $ib "init")))
  (func (export "call") (param "slot" u32) (result u32) (canon lift (core func $ia "call")))
  (func (export "ready") (result u32) (canon lift (core func $ib "ready")))
)
