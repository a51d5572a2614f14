;; init: init
;; A typed table (ref null $t) and a funcref table holding functions whose types differ only by rec group or subtyping.
(component
  (core module $m
    (rec (type $a (func (param i32) (result i32))) (type $pad (func)))
    (type $plain (func (param i32) (result i32)))
    (type $s (sub (func (param i64) (result i64))))
    (type $s2 (sub $s (func (param i64) (result i64))))
    (table $typed 1 (ref null $plain))
    (table $any 3 funcref)
    (func $fa (type $a) (i32.add (local.get 0) (i32.const 100)))
    (func $fp (type $plain) (i32.add (local.get 0) (i32.const 200)))
    (func $fs2 (type $s2) (i64.add (local.get 0) (i64.const 400)))
    (elem declare func $fa $fp $fs2)
    (func (export "init")
      (table.set $typed (i32.const 0) (ref.func $fp))
      (table.set $any (i32.const 0) (ref.func $fa))
      (table.set $any (i32.const 1) (ref.func $fp))
      (table.set $any (i32.const 2) (ref.func $fs2)))
    (func (export "run") (result i64)
      (i64.add
        (i64.extend_i32_u
          (i32.add (call_indirect $any (type $a) (i32.const 1) (i32.const 0))
            (i32.add (call_indirect $any (type $plain) (i32.const 2) (i32.const 1))
                     (call_ref $plain (i32.const 3) (table.get $typed (i32.const 0))))))
        (call_indirect $any (type $s) (i64.const 4) (i32.const 2)))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "run") (result s64) (canon lift (core func $i "run")))
)
