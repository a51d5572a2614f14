(component
  (core module $m (;0;)
    (type $v (;0;) (func (result i32)))
    (type (;1;) (func))
    (global $g (;0;) (mut funcref) ref.func $five)
    (global $h (;1;) (mut funcref) ref.null func)
    (export "init" (func 2))
    (export "run" (func 3))
    (elem (;0;) declare func $five)
    (func $five (;0;) (type $v) (result i32)
      i32.const 5
    )
    (func $nine (;1;) (type $v) (result i32)
      i32.const 9
    )
    (func (;2;) (type 1)
      ref.func $five
      global.set $g
      ref.null func
      global.set $h
    )
    (func (;3;) (type $v) (result i32)
      global.get $g
      ref.cast (ref $v)
      call_ref $v
      global.get $h
      ref.is_null
      i32.add
    )
  )
  (core instance $i (;0;) (instantiate $m))
  (type (;0;) (func))
  (alias core export $i "init" (core func (;0;)))
  (func (;0;) (type 0) (canon lift (core func 0)))
  (type (;1;) (func (result u32)))
  (alias core export $i "run" (core func (;1;)))
  (func (;1;) (type 1) (canon lift (core func 1)))
  (export (;2;) "run" (func 1))
)
