#   A deliberately messy script: the formatter's golden output.
param layer:int=8     # the layer to read
param   alpha : float=-0.5



trace "The Eiffel Tower is located in the city of"{
  let h=model.layers[layer].output[ 0 , -1 ]   ;save p=model.lm_head( model.norm( h ) ).softmax( -1 )
      for l in 0..<model.num_layers{let c[ l ]=model.layers[l].output[:,-1]}
  if layer>4 and not (alpha<0){ save a=1 }
  else{save b=2}


  # a lonely comment before the end
}
generate "I think that you are" ( max_tokens=12 , temperature=0.8, ) {
each step{model.layers[10].output+=alpha*(h-h)}
    step 0..<3 {
        model.layers[ 3 ].mlp.output[ :, :, ::2 ] = 0 }
    save ids=result.ids}
