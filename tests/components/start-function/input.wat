;; init: init
;; A start function's effects (a counter and a table slot) are baked in once and the start function is removed.
(component
  (core module $m
    (type $v (func (result i32)))
    (table $t 1 funcref)
    (global $count (mut i32) (i32.const 0))
    (func $one (type $v) (i32.const 1))
    (elem declare func $one)
    (func $start
      (global.set $count (i32.add (global.get $count) (i32.const 1)))
      (table.set $t (i32.const 0) (ref.func $one)))
    (start $start)
    (func (export "init") (global.set $count (i32.add (global.get $count) (i32.const 100))))
    (func (export "count") (result i32)
      (i32.add (global.get $count) (call_indirect $t (type $v) (i32.const 0)))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "count") (result u32) (canon lift (core func $i "count")))
)
