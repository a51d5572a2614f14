(component
  (core module $a (;0;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func (param i32) (result i32)))
    (table (;0;) 3 funcref)
    (export "tab" (table 0))
    (export "call" (func 2))
    (elem (;0;) (i32.const 0) func $one $two)
    (func $one (;0;) (type $v) (result i32)
      i32.const 1
    )
    (func $two (;1;) (type $v) (result i32)
      i32.const 2
    )
    (func (;2;) (type 1) (param i32) (result i32)
      local.get 0
      call_indirect (type $v)
    )
  )
  (core instance $ia (;0;) (instantiate $a))
  (core module $b (;1;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func))
    (import "a" "tab" (table (;0;) 3 funcref))
    (global $ready (;0;) (mut i32) i32.const 1)
    (export "init" (func 0))
    (export "ready" (func 1))
    (func (;0;) (type 1)
      i32.const 1
      global.set $ready
    )
    (func (;1;) (type $v) (result i32)
      global.get $ready
      table.size 0
      i32.add
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
  (type (;2;) (func (result u32)))
  (alias core export $ib "ready" (core func (;2;)))
  (func (;2;) (type 2) (canon lift (core func 2)))
  (export (;3;) "call" (func 1))
  (export (;4;) "ready" (func 2))
)
