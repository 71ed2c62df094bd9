a  
  ${~ x ~}  
  b
