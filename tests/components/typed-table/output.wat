(component
  (core module $m (;0;)
    (rec
      (type $a (;0;) (func (param i32) (result i32)))
      (type $pad (;1;) (func))
    )
    (type $plain (;2;) (func (param i32) (result i32)))
    (type $s (;3;) (sub (func (param i64) (result i64))))
    (type $s2 (;4;) (sub $s (func (param i64) (result i64))))
    (type (;5;) (func))
    (type (;6;) (func (result i64)))
    (table $typed (;0;) 1 (ref null $plain))
    (table $any (;1;) 3 funcref)
    (export "init" (func 3))
    (export "run" (func 4))
    (elem (;0;) declare func $fa $fp $fs2)
    (elem (;1;) (table $any) (i32.const 0) func $fa $fp $fs2)
    (elem (;2;) (table $typed) (i32.const 0) (ref null $plain) (ref.func $fp))
    (func $fa (;0;) (type $a) (param i32) (result i32)
      local.get 0
      i32.const 100
      i32.add
    )
    (func $fp (;1;) (type $plain) (param i32) (result i32)
      local.get 0
      i32.const 200
      i32.add
    )
    (func $fs2 (;2;) (type $s2) (param i64) (result i64)
      local.get 0
      i64.const 400
      i64.add
    )
    (func (;3;) (type 5)
      i32.const 0
      ref.func $fp
      table.set $typed
      i32.const 0
      ref.func $fa
      table.set $any
      i32.const 1
      ref.func $fp
      table.set $any
      i32.const 2
      ref.func $fs2
      table.set $any
    )
    (func (;4;) (type 6) (result i64)
      i32.const 1
      i32.const 0
      call_indirect $any (type $a)
      i32.const 2
      i32.const 1
      call_indirect $any (type $plain)
      i32.const 3
      i32.const 0
      table.get $typed
      call_ref $plain
      i32.add
      i32.add
      i64.extend_i32_u
      i64.const 4
      i32.const 2
      call_indirect $any (type $s)
      i64.add
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;0;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (type (;1;) (func (result s64)))
  (alias core export $i "run" (core func (;1;)))
  (func (;1;) (type 1) (canon lift (core func 1)))
  (export (;2;) "run" (func 1))
)
