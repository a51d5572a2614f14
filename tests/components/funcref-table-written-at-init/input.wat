;; init: init
;; An init that grows a funcref table and sets slots: the table's minimum and index-form segments record the result.
(component
  (core module $m
    (type $ii (func (param i32) (result i32)))
    (table $t 2 funcref)
    (func $inc (type $ii) (i32.add (local.get 0) (i32.const 1)))
    (func $dbl (type $ii) (i32.mul (local.get 0) (i32.const 2)))
    (func $neg (type $ii) (i32.sub (i32.const 0) (local.get 0)))
    (elem (i32.const 0) func $inc)
    (elem declare func $dbl $neg)
    (func (export "init")
      (drop (table.grow $t (ref.func $dbl) (i32.const 3)))
      (table.set $t (i32.const 1) (ref.func $neg))
      (table.set $t (i32.const 3) (ref.null func)))
    (func (export "call") (param i32 i32) (result i32)
      (call_indirect $t (type $ii) (local.get 1) (local.get 0)))
    (func (export "size") (result i32) (table.size $t)))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "call") (param "slot" u32) (param "x" u32) (result u32) (canon lift (core func $i "call")))
  (func (export "size") (result u32) (canon lift (core func $i "size")))
)
