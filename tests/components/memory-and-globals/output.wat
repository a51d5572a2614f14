(component
  (core module $m (;0;)
    (type (;0;) (func))
    (type (;1;) (func (result i64)))
    (memory (;0;) 2)
    (global $count (;0;) (mut i32) i32.const 3)
    (global $big (;1;) (mut i64) i64.const -5)
    (global $fixed (;2;) i32 i32.const 9)
    (export "memory" (memory 0))
    (export "wizer-initialize" (func 0))
    (export "run" (func 1))
    (func (;0;) (type 0)
      i32.const 1
      memory.grow
      drop
      i32.const 100
      i32.const -1430532899
      i32.store
      i32.const 16
      i32.const 72
      i32.store8
      i32.const 70000
      i64.const 72623859790382856
      i64.store
      i32.const 3
      global.set $count
      i64.const -5
      global.set $big
    )
    (func (;1;) (type 1) (result i64)
      i32.const 100
      i32.load
      i32.const 16
      i32.load8_u
      i32.add
      global.get $count
      global.get $fixed
      i32.add
      i32.add
      i64.extend_i32_u
      global.get $big
      i32.const 70000
      i64.load
      i64.add
      i64.add
    )
    (data (;0;) (i32.const 16) "Hello")
    (data (;1;) (i32.const 100) "\dd\cc\bb\aa")
    (data (;2;) (i32.const 70000) "\08\07\06\05\04\03\02\01")
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;0;) (func))
  (alias core export $i "wizer-initialize" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (type (;1;) (func (result s64)))
  (alias core export $i "run" (core func (;1;)))
  (func (;1;) (type 1) (canon lift (core func 1)))
  (export (;2;) "run" (func 1))
)
