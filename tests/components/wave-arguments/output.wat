(component
  (core module $m (;0;)
    (type (;0;) (func (param i32 i32 i32 i32) (result i32)))
    (type (;1;) (func (param i32 i32 i32)))
    (type (;2;) (func (result i32)))
    (memory (;0;) 1)
    (global $heap (;0;) (mut i32) i32.const 1029)
    (global $n (;1;) (mut i32) i32.const 35)
    (export "memory" (memory 0))
    (export "realloc" (func 0))
    (export "setup" (func 1))
    (export "get" (func 2))
    (func (;0;) (type 0) (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      global.get $heap
      local.set $p
      global.get $heap
      local.get 3
      i32.add
      global.set $heap
      local.get $p
    )
    (func (;1;) (type 1) (param $n i32) (param $ptr i32) (param $len i32)
      local.get $n
      local.get $len
      i32.mul
      global.set $n
      i32.const 64
      local.get $ptr
      local.get $len
      memory.copy
    )
    (func (;2;) (type 2) (result i32)
      global.get $n
      i32.const 1000
      i32.mul
      i32.const 64
      i32.load8_u
      i32.add
    )
    (data (;0;) (i32.const 64) "hello")
    (data (;1;) (i32.const 1024) "hello")
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;0;) (func (param "n" u32) (param "name" string)))
  (alias core export $i "setup" (core func (;0;)))
  (alias core export $i "memory" (core memory (;0;)))
  (alias core export $i "realloc" (core func (;1;)))
  (func (;0;) (type 0) (canon lift (core func 0) (memory 0) (realloc 1)))
  (type (;1;) (func (result u32)))
  (alias core export $i "get" (core func (;2;)))
  (func (;1;) (type 1) (canon lift (core func 2)))
  (export (;2;) "get" (func 1))
)
