function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt){
 if(_nPageCount == null || _nPageCount<=1){ return; }
 var nCurrIndex = _nCurrIndex || 0;
 if(nCurrIndex == 0) document.write("首页 ");
 else document.write("<a href=\""+_sPageName+"."+_sPageExt+"\">首页</a> ");
 if(nCurrIndex+1 < _nPageCount) document.write("<a href=\""+_sPageName+"_"+(nCurrIndex+1)+"."+_sPageExt+"\">下一页</a>");
}