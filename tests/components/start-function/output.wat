(component
  (core module $m (;0;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func))
    (table $t (;0;) 1 funcref)
    (global $count (;0;) (mut i32) i32.const 101)
    (export "init" (func 2))
    (export "count" (func 3))
    (elem (;0;) declare func $one)
    (elem (;1;) (i32.const 0) func $one)
    (func $one (;0;) (type $v) (result i32)
      i32.const 1
    )
    (func $start (;1;) (type 1)
      global.get $count
      i32.const 1
      i32.add
      global.set $count
      i32.const 0
      ref.func $one
      table.set $t
    )
    (func (;2;) (type 1)
      global.get $count
      i32.const 100
      i32.add
      global.set $count
    )
    (func (;3;) (type $v) (result i32)
      global.get $count
      i32.const 0
      call_indirect (type $v)
      i32.add
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;0;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (type (;1;) (func (result u32)))
  (alias core export $i "count" (core func (;1;)))
  (func (;1;) (type 1) (canon lift (core func 1)))
  (export (;2;) "count" (func 1))
)
