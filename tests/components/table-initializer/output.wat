(component
  (core module $m (;0;)
    (type $t (;0;) (func (result i32)))
    (type (;1;) (func))
    (type (;2;) (func (param i32) (result i32)))
    (table $f (;0;) 6 funcref)
    (table $typed (;1;) 4 (ref $t) ref.func $a)
    (export "init" (func 3))
    (export "f" (func 4))
    (export "typed" (func 5))
    (export "sizes" (func 6))
    (elem (;0;) declare func $b $c)
    (elem (;1;) (i32.const 0) func $a $b)
    (elem (;2;) (i32.const 3) func $a $c $c)
    (elem (;3;) (table $typed) (i32.const 0) (ref $t) (ref.func $c) (ref.func $a) (ref.func $a) (ref.func $b))
    (func $a (;0;) (type $t) (result i32)
      i32.const 1
    )
    (func $b (;1;) (type $t) (result i32)
      i32.const 2
    )
    (func $c (;2;) (type $t) (result i32)
      i32.const 3
    )
    (func (;3;) (type 1)
      i32.const 1
      ref.func $b
      table.set $f
      i32.const 2
      ref.null func
      table.set $f
      ref.func $c
      i32.const 2
      table.grow $f
      drop
      i32.const 0
      ref.func $c
      table.set $typed
      ref.func $b
      i32.const 1
      table.grow $typed
      drop
    )
    (func (;4;) (type 2) (param i32) (result i32)
      local.get 0
      table.get $f
      ref.is_null
      if (result i32) ;; label = @1
        i32.const 0
      else
        local.get 0
        call_indirect (type $t)
      end
    )
    (func (;5;) (type 2) (param i32) (result i32)
      local.get 0
      table.get $typed
      call_ref $t
    )
    (func (;6;) (type $t) (result i32)
      table.size $f
      i32.const 10
      i32.mul
      table.size $typed
      i32.add
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;0;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (type (;1;) (func (param "i" u32) (result u32)))
  (alias core export $i "f" (core func (;1;)))
  (func (;1;) (type 1) (canon lift (core func 1)))
  (type (;2;) (func (param "i" u32) (result u32)))
  (alias core export $i "typed" (core func (;2;)))
  (func (;2;) (type 2) (canon lift (core func 2)))
  (type (;3;) (func (result u32)))
  (alias core export $i "sizes" (core func (;3;)))
  (func (;3;) (type 3) (canon lift (core func 3)))
  (export (;4;) "f" (func 1))
  (export (;5;) "typed" (func 2))
  (export (;6;) "sizes" (func 3))
)
