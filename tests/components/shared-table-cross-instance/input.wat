;; init: init
;; Instance A defines a table; instance B imports it and writes funcrefs of its own functions and of A's into it.
(component
  (core module $a
    (type $v (func (result i32)))
    (table (export "tab") 1 funcref)
    (func $seven (export "seven") (type $v) (i32.const 7))
    (elem (i32.const 0) func $seven)
    (func (export "call") (param i32) (result i32) (call_indirect (type $v) (local.get 0))))
  (core instance $ia (instantiate $a))
  (core module $b
    (type $v (func (result i32)))
    (import "a" "tab" (table $t 1 funcref))
    (import "a" "seven" (func $seven (type $v)))
    (func $eleven (type $v) (i32.const 11))
    (elem declare func $eleven $seven)
    (func (export "init")
      (drop (table.grow $t (ref.func $eleven) (i32.const 2)))
      (table.set $t (i32.const 2) (ref.func $seven))
      (table.set $t (i32.const 0) (ref.func $eleven))))
  (core instance $ib (instantiate $b (with "a" (instance $ia))))
  (func (export "init") (canon lift (core func $ib "init")))
  (func (export "call") (param "slot" u32) (result u32) (canon lift (core func $ia "call")))
)
