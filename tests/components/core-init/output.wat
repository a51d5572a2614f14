(component
  (core module $m (;0;)
    (type (;0;) (func))
    (type (;1;) (func (result i32)))
    (memory (;0;) 1)
    (global $g (;0;) (mut i32) i32.const 42)
    (export "memory" (memory 0))
    (export "componentize.wizer" (func 0))
    (export "get" (func 1))
    (func (;0;) (type 0)
      i32.const 42
      global.set $g
      i32.const 16
      i32.const 7
      i32.store
    )
    (func (;1;) (type 1) (result i32)
      global.get $g
      i32.const 16
      i32.load
      i32.add
    )
    (data (;0;) (i32.const 16) "\07")
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;0;) (func (result s32)))
  (alias core export $i "get" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (export (;1;) "get" (func 0))
)
