(component
  (core module $m (;0;)
    (type $r (;0;) (func (result i32)))
    (type (;1;) (func (param i32)))
    (type (;2;) (func (param i32) (result i32)))
    (table $t (;0;) 4 funcref)
    (memory (;0;) 1)
    (global $g (;0;) (mut i32) i32.const 1)
    (export "mem" (memory 0))
    (export "setup" (func 2))
    (export "read" (func 3))
    (export "slot" (func 4))
    (elem (;0;) declare func $a $b)
    (elem (;1;) (i32.const 0) func $a)
    (func $a (;0;) (type $r) (result i32)
      i32.const 10
    )
    (func $b (;1;) (type $r) (result i32)
      i32.const 20
    )
    (func (;2;) (type 1) (param i32)
      local.get 0
      global.set $g
      i32.const 100
      local.get 0
      i32.const 3
      i32.mul
      i32.store
      local.get 0
      i32.const 1
      i32.eq
      if ;; label = @1
        i32.const 0
        ref.func $a
        table.set $t
      else
        i32.const 2
        ref.func $b
        table.set $t
      end
    )
    (func (;3;) (type $r) (result i32)
      global.get $g
      i32.const 100
      i32.load
      i32.add
    )
    (func (;4;) (type 2) (param i32) (result i32)
      local.get 0
      call_indirect (type $r)
    )
    (data (;0;) (i32.const 100) "\03")
  )
  (core module (;1;)
    (type $r (;0;) (func (result i32)))
    (type (;1;) (func (param i32)))
    (type (;2;) (func (param i32) (result i32)))
    (table $t (;0;) 4 funcref)
    (memory (;0;) 1)
    (global $g (;0;) (mut i32) i32.const 2)
    (export "mem" (memory 0))
    (export "setup" (func 2))
    (export "read" (func 3))
    (export "slot" (func 4))
    (elem (;0;) declare func $a $b)
    (elem (;1;) (i32.const 2) func $b)
    (func $a (;0;) (type $r) (result i32)
      i32.const 10
    )
    (func $b (;1;) (type $r) (result i32)
      i32.const 20
    )
    (func (;2;) (type 1) (param i32)
      local.get 0
      global.set $g
      i32.const 100
      local.get 0
      i32.const 3
      i32.mul
      i32.store
      local.get 0
      i32.const 1
      i32.eq
      if ;; label = @1
        i32.const 0
        ref.func $a
        table.set $t
      else
        i32.const 2
        ref.func $b
        table.set $t
      end
    )
    (func (;3;) (type $r) (result i32)
      global.get $g
      i32.const 100
      i32.load
      i32.add
    )
    (func (;4;) (type 2) (param i32) (result i32)
      local.get 0
      call_indirect (type $r)
    )
    (data (;0;) (i32.const 100) "\06")
  )
  (core instance $x (;0;) (instantiate $m))
  (core instance $y (;1;) (instantiate 1))
  (core module $driver (;2;)
    (type (;0;) (func (param i32)))
    (type (;1;) (func))
    (import "x" "setup" (func $sx (;0;) (type 0) (param i32)))
    (import "y" "setup" (func $sy (;1;) (type 0) (param i32)))
    (export "init" (func 2))
    (func (;2;) (type 1)
      i32.const 1
      call $sx
      i32.const 2
      call $sy
    )
  )
  (core instance $d (;2;) (instantiate $driver
      (with "x" (instance $x))
      (with "y" (instance $y))
    )
  )
  (type (;0;) (func))
  (alias core export $d "init" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (type (;1;) (func (result u32)))
  (alias core export $x "read" (core func (;1;)))
  (func (;1;) (type 1) (canon lift (core func 1)))
  (type (;2;) (func (result u32)))
  (alias core export $y "read" (core func (;2;)))
  (func (;2;) (type 2) (canon lift (core func 2)))
  (type (;3;) (func (param "i" u32) (result u32)))
  (alias core export $x "slot" (core func (;3;)))
  (func (;3;) (type 3) (canon lift (core func 3)))
  (type (;4;) (func (param "i" u32) (result u32)))
  (alias core export $y "slot" (core func (;4;)))
  (func (;4;) (type 4) (canon lift (core func 4)))
  (export (;5;) "read-x" (func 1))
  (export (;6;) "read-y" (func 2))
  (export (;7;) "slot-x" (func 3))
  (export (;8;) "slot-y" (func 4))
)
