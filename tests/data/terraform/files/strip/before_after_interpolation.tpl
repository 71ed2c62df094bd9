a ${x}  
%{~ if true }b%{ endif }
