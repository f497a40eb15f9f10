# Spacing, semicolons and line breaks that the formatter normalizes.
param   layer:int=8
trace "p"{let a=1;let b=a+2*3
    let c = f( a ,b , k=1 )
    let d = [ 1,2 ,3, ]
    let e = model.layers[ 0 ].output[ : , - 1 ]
    let g = (a
        + b)
    save s=a ; save t=b
}
trace
{
    let x = 1
}
if x { } else { }
