(component
  (core module $m (;0;)
    (type $ii (;0;) (func (param i32) (result i32)))
    (type (;1;) (func))
    (type (;2;) (func (param i32 i32) (result i32)))
    (type (;3;) (func (result i32)))
    (table $t (;0;) 5 funcref)
    (export "init" (func 3))
    (export "call" (func 4))
    (export "size" (func 5))
    (elem (;0;) declare func $dbl $neg)
    (elem (;1;) (i32.const 0) func $inc $neg $dbl)
    (elem (;2;) (i32.const 4) func $dbl)
    (func $inc (;0;) (type $ii) (param i32) (result i32)
      local.get 0
      i32.const 1
      i32.add
    )
    (func $dbl (;1;) (type $ii) (param i32) (result i32)
      local.get 0
      i32.const 2
      i32.mul
    )
    (func $neg (;2;) (type $ii) (param i32) (result i32)
      i32.const 0
      local.get 0
      i32.sub
    )
    (func (;3;) (type 1)
      ref.func $dbl
      i32.const 3
      table.grow $t
      drop
      i32.const 1
      ref.func $neg
      table.set $t
      i32.const 3
      ref.null func
      table.set $t
    )
    (func (;4;) (type 2) (param i32 i32) (result i32)
      local.get 1
      local.get 0
      call_indirect (type $ii)
    )
    (func (;5;) (type 3) (result i32)
      table.size $t
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;0;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (type (;1;) (func (param "slot" u32) (param "x" u32) (result u32)))
  (alias core export $i "call" (core func (;1;)))
  (func (;1;) (type 1) (canon lift (core func 1)))
  (type (;2;) (func (result u32)))
  (alias core export $i "size" (core func (;2;)))
  (func (;2;) (type 2) (canon lift (core func 2)))
  (export (;3;) "call" (func 1))
  (export (;4;) "size" (func 2))
)
