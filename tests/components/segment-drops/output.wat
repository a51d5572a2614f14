(component
  (core module $m (;0;)
    (type $ii (;0;) (func (param i32) (result i32)))
    (type (;1;) (func))
    (type (;2;) (func (param i32 i32) (result i32)))
    (type (;3;) (func (result i32)))
    (table $t (;0;) 3 funcref)
    (memory (;0;) 1)
    (export "init" (func 2))
    (export "call" (func 3))
    (export "later" (func 4))
    (elem $used (;0;) funcref)
    (elem $kept (;1;) funcref (ref.func $b))
    (elem (;2;) (i32.const 0) func $a $b)
    (func $a (;0;) (type $ii) (param i32) (result i32)
      local.get 0
      i32.const 1
      i32.add
    )
    (func $b (;1;) (type $ii) (param i32) (result i32)
      local.get 0
      i32.const 2
      i32.mul
    )
    (func (;2;) (type 1)
      i32.const 0
      i32.const 0
      i32.const 2
      table.init $used
      elem.drop $used
      i32.const 8
      i32.const 0
      i32.const 3
      memory.init $pd
      data.drop $pd
    )
    (func (;3;) (type 2) (param i32 i32) (result i32)
      local.get 1
      local.get 0
      call_indirect (type $ii)
    )
    (func (;4;) (type 3) (result i32)
      i32.const 2
      i32.const 0
      i32.const 1
      table.init $kept
      i32.const 0
      i32.const 0
      i32.const 2
      memory.init $kd
      i32.const 9
      i32.load8_u
      i32.const 1
      i32.load8_u
      i32.const 2
      call_indirect (type $ii)
      i32.add
    )
    (data $pd (;0;) "")
    (data $kd (;1;) "kk")
    (data (;2;) (i32.const 8) "xyz")
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;0;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (type (;1;) (func (param "slot" u32) (param "x" u32) (result u32)))
  (alias core export $i "call" (core func (;1;)))
  (func (;1;) (type 1) (canon lift (core func 1)))
  (type (;2;) (func (result u32)))
  (alias core export $i "later" (core func (;2;)))
  (func (;2;) (type 2) (canon lift (core func 2)))
  (export (;3;) "call" (func 1))
  (export (;4;) "later" (func 2))
)
