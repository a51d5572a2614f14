(component
  (core module $a (;0;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func (param i32) (result i32)))
    (table (;0;) 3 funcref)
    (export "tab" (table 0))
    (export "seven" (func $seven))
    (export "call" (func 1))
    (elem (;0;) (i32.const 2) func $seven)
    (func $seven (;0;) (type $v) (result i32)
      i32.const 7
    )
    (func (;1;) (type 1) (param i32) (result i32)
      local.get 0
      call_indirect (type $v)
    )
  )
  (core instance $ia (;0;) (instantiate $a))
  (core module $b (;1;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func))
    (import "a" "tab" (table $t (;0;) 1 funcref))
    (import "a" "seven" (func $seven (;0;) (type $v) (result i32)))
    (export "init" (func 2))
    (elem (;0;) declare func $eleven $seven)
    (elem (;1;) (i32.const 0) func $eleven $eleven)
    (func $eleven (;1;) (type $v) (result i32)
      i32.const 11
    )
    (func (;2;) (type 1)
      ref.func $eleven
      i32.const 2
      table.grow $t
      drop
      i32.const 2
      ref.func $seven
      table.set $t
      i32.const 0
      ref.func $eleven
      table.set $t
    )
  )
  (core instance $ib (;1;) (instantiate $b
      (with "a" (instance $ia))
    )
  )
  (type (;0;) (func))
  (alias core export $ib "init" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (type (;1;) (func (param "slot" u32) (result u32)))
  (alias core export $ia "call" (core func (;1;)))
  (func (;1;) (type 1) (canon lift (core func 1)))
  (export (;2;) "call" (func 1))
)
